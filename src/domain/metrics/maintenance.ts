import { sql } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import { step } from "../loops/isolate.js";
import { dropPartitionsBefore, ensurePartitions } from "./partitions.js";
import { rollupHours, rollupMinutes } from "./rollups.js";
import { DAY_MS, type MetricsSettings, metricsSettings } from "./settings.js";

/**
 * One pass of metrics upkeep: partitions ahead, roll-ups, then retention. Each step is idempotent, so a pass that
 * dies half-way is finished by the next one; each is isolated, so one that fails (a bad row in a roll-up window)
 * is logged and counted and the others still run.
 */
export async function maintainMetrics(ctx: AppContext, overrides: Partial<MetricsSettings> = {}) {
  const s = metricsSettings(overrides);
  const now = ctx.clock.now();
  const db = ctx.db;
  const run = <R>(name: string, work: () => Promise<R>) => step(ctx, "metrics-maintenance", name, work);
  const created = await run("partitions", () => ensurePartitions(db, now, s.partitionsAhead));
  const rawCutoff = new Date(now.getTime() - s.rawRetentionDays * DAY_MS);
  const minuteCutoff = new Date(now.getTime() - s.minuteRetentionDays * DAY_MS);
  const hourCutoff = new Date(now.getTime() - s.hourRetentionDays * DAY_MS);
  // Roll up before dropping, so raw samples reach the minute table before they are gone.
  const minutes = await run("rollup-minutes", () =>
    rollupMinutes(db, now, { latenessMs: s.latenessMs, maxSpanMs: s.maxRollupSpanMs, earliest: rawCutoff }),
  );
  const hours = await run("rollup-hours", () =>
    rollupHours(db, { latenessMs: s.latenessMs, maxSpanMs: s.maxRollupSpanMs, earliest: minuteCutoff }),
  );
  const dropped = await run("retention-raw", () => dropPartitionsBefore(db, rawCutoff));
  await run("retention-1m", () =>
    db.execute(sql`delete from gpu_metrics_1m where bucket < ${minuteCutoff.toISOString()}::timestamptz`),
  );
  await run("retention-1h", () =>
    db.execute(sql`delete from gpu_metrics_1h where bucket < ${hourCutoff.toISOString()}::timestamptz`),
  );
  return { createdPartitions: created, droppedPartitions: dropped, minuteBuckets: minutes, hourBuckets: hours };
}
