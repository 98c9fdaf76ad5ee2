import { eq, sql } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import { gpuAllocations, gpus } from "../../db/schema/index.js";
import { queryRows } from "../../db/sql.js";
import { ApiError, notFound } from "../../lib/errors.js";
import { rollupMark } from "./rollups.js";
import { DAY_MS, metricsSettings } from "./settings.js";

export interface MetricPoint {
  ts: Date;
  samples: number;
  utilization_pct: number | null;
  utilization_max: number | null;
  memory_used_mb: number | null;
  memory_total_mb: number | null;
  temperature_c: number | null;
  temperature_max: number | null;
  power_draw_w: number | null;
}

export type MetricSource = "raw" | "1m" | "1h";
const MAX_POINTS = 10_000;

/**
 * Which table answers a query: the coarsest whose buckets fit in one step (raw under a minute, per-minute under an
 * hour, per-hour above), moved to a coarser one when the range starts before the finer table's retention.
 */
export function chooseSource(stepSeconds: number, from: Date, now: Date, s = metricsSettings()): MetricSource {
  const age = now.getTime() - from.getTime();
  let source: MetricSource = stepSeconds >= 3600 ? "1h" : stepSeconds >= 60 ? "1m" : "raw";
  if (source === "raw" && age > s.rawRetentionDays * DAY_MS) source = "1m";
  if (source === "1m" && age > s.minuteRetentionDays * DAY_MS) source = "1h";
  return source;
}

/**
 * Samples of one GPU (`gpuId`; a list: those GPUs together; null: every GPU of the fleet together) in [from, to)
 * averaged into `step`-second
 * buckets aligned to the epoch. A roll-up table answers
 * up to its mark and the next finer table after it, so the newest minutes show before the worker has rolled them.
 */
export async function queryGpuMetrics(
  ctx: AppContext,
  gpuId: number | number[] | null,
  range: { from: Date; to: Date; stepSeconds: number },
): Promise<{ source: MetricSource; points: MetricPoint[] }> {
  const { from, to, stepSeconds } = range;
  if (to <= from) throw new ApiError("BAD_REQUEST", "to must be after from");
  const points = (to.getTime() - from.getTime()) / 1000 / stepSeconds;
  if (points > MAX_POINTS) {
    throw new ApiError("BAD_REQUEST", `step: the range would give ${Math.ceil(points)} points; at most ${MAX_POINTS}`);
  }
  if (Array.isArray(gpuId) && gpuId.length === 0) return { source: "raw", points: [] };
  if (typeof gpuId === "number") {
    const [gpu] = await ctx.db.select({ id: gpus.id }).from(gpus).where(eq(gpus.id, gpuId));
    if (!gpu) throw notFound("GPU");
  }
  const ofGpu =
    gpuId === null
      ? sql`true`
      : Array.isArray(gpuId)
        ? sql`gpu_id in (${sql.join(
            gpuId.map((id) => sql`${id}`),
            sql`, `,
          )})`
        : sql`gpu_id = ${gpuId}`;

  const source = chooseSource(stepSeconds, from, ctx.clock.now());
  const minuteMark = source === "raw" ? from : ((await rollupMark(ctx.db, "1m")) ?? from);
  const hourMark = source === "1h" ? ((await rollupMark(ctx.db, "1h")) ?? from) : from;
  const t = (d: Date) => sql`${d.toISOString()}::timestamptz`;
  const rollup = (table: string, lo: SqlDate, hi: SqlDate) => sql`
    select bucket as t, samples as n, utilization_avg * samples as u_sum,
      case when utilization_avg is null then 0 else samples end as u_n, utilization_max as u_max,
      memory_used_avg * samples as m_sum, case when memory_used_avg is null then 0 else samples end as m_n,
      memory_total_max as mt_max, temperature_avg * samples as t_sum,
      case when temperature_avg is null then 0 else samples end as t_n, temperature_max as t_max,
      power_draw_avg * samples as p_sum, case when power_draw_avg is null then 0 else samples end as p_n
    from ${sql.raw(table)} where ${ofGpu} and bucket >= ${lo} and bucket < ${hi}`;
  type SqlDate = ReturnType<typeof t>;
  const raw = sql`
    select ts as t, 1 as n, utilization_pct as u_sum, case when utilization_pct is null then 0 else 1 end as u_n,
      utilization_pct as u_max, memory_used_mb as m_sum, case when memory_used_mb is null then 0 else 1 end as m_n,
      memory_total_mb as mt_max, temperature_c as t_sum, case when temperature_c is null then 0 else 1 end as t_n,
      temperature_c as t_max, power_draw_w as p_sum, case when power_draw_w is null then 0 else 1 end as p_n
    from gpu_metrics where ${ofGpu} and ts >= greatest(${t(from)}, ${t(minuteMark)}) and ts < ${t(to)}`;
  const parts = [raw];
  if (source !== "raw") {
    parts.push(
      rollup("gpu_metrics_1m", sql`greatest(${t(from)}, ${t(hourMark)})`, sql`least(${t(to)}, ${t(minuteMark)})`),
    );
  }
  if (source === "1h") parts.push(rollup("gpu_metrics_1h", t(from), sql`least(${t(to)}, ${t(hourMark)})`));

  const rows = await queryRows<Record<string, unknown>>(
    ctx.db,
    sql`with src as (${sql.join(parts, sql` union all `)})
      select to_timestamp(floor(extract(epoch from t) / ${stepSeconds}) * ${stepSeconds}) as bucket,
        sum(n)::int as samples,
        sum(u_sum) / nullif(sum(u_n), 0) as utilization_pct, max(u_max) as utilization_max,
        sum(m_sum) / nullif(sum(m_n), 0) as memory_used_mb, max(mt_max) as memory_total_mb,
        sum(t_sum) / nullif(sum(t_n), 0) as temperature_c, max(t_max) as temperature_max,
        sum(p_sum) / nullif(sum(p_n), 0) as power_draw_w
      from src group by 1 order by 1`,
  );
  const n = (v: unknown) => (v === null || v === undefined ? null : Math.round(Number(v) * 100) / 100);
  return {
    source,
    points: rows.map((r) => ({
      ts: new Date(r.bucket as string),
      samples: Number(r.samples),
      utilization_pct: n(r.utilization_pct),
      utilization_max: n(r.utilization_max),
      memory_used_mb: n(r.memory_used_mb),
      memory_total_mb: n(r.memory_total_mb),
      temperature_c: n(r.temperature_c),
      temperature_max: n(r.temperature_max),
      power_draw_w: n(r.power_draw_w),
    })),
  };
}

/**
 * The GPUs an instance holds on the fleet now (its allocations), oldest GPU first; none for an instance of an
 * upstream cloud or one that is stopped, whose GPUs were released.
 */
export async function instanceGpuIds(ctx: AppContext, instanceId: string): Promise<number[]> {
  const rows = await ctx.db
    .select({ id: gpuAllocations.gpuId })
    .from(gpuAllocations)
    .where(eq(gpuAllocations.instanceId, instanceId))
    .orderBy(gpuAllocations.gpuId);
  return rows.map((r) => r.id);
}

/** "60", "30s", "5m", "1h", "1d" → seconds. */
export function parseStep(text: string): number | null {
  const match = /^(\d+)\s*([smhd]?)$/.exec(text.trim());
  if (!match) return null;
  const value = Number(match[1]) * { "": 1, s: 1, m: 60, h: 3600, d: 86400 }[match[2] as "" | "s"];
  return value >= 1 && value <= 30 * 86400 ? value : null;
}
