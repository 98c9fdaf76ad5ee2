import { sql } from "drizzle-orm";
import type { Executor } from "../../db/client.js";
import { queryRows } from "../../db/sql.js";

/**
 * Roll-ups: gpu_metrics → gpu_metrics_1m → gpu_metrics_1h. Each pass recomputes whole buckets from the finer table
 * and upserts them, so running a pass twice (a retry, a second replica) gives the same rows. A mark per roll-up
 * (metrics_rollup_state) records how far it has gone; the next pass starts `lateness` before it, so samples that
 * arrive a little late are still counted. Samples later than that reach only the raw table.
 */
export type Rollup = "1m" | "1h";
const widthMs: Record<Rollup, number> = { "1m": 60_000, "1h": 3_600_000 };

const floorTo = (at: Date, ms: number) => new Date(Math.floor(at.getTime() / ms) * ms);

export async function rollupMark(db: Executor, name: Rollup): Promise<Date | null> {
  const [row] = await queryRows<{ rolled_until: Date }>(
    db,
    sql`select rolled_until from metrics_rollup_state where name = ${name}`,
  );
  return row ? new Date(row.rolled_until) : null;
}

async function setMark(db: Executor, name: Rollup, until: Date): Promise<void> {
  await db.execute(sql`insert into metrics_rollup_state (name, rolled_until) values (${name}, ${until.toISOString()}::timestamptz)
    on conflict (name) do update set rolled_until = excluded.rolled_until`);
}

/** Rolls raw samples into per-minute buckets up to the last whole minute. Returns the buckets written. */
export async function rollupMinutes(
  db: Executor,
  now: Date,
  options: { latenessMs: number; maxSpanMs: number; earliest: Date },
): Promise<number> {
  const until = floorTo(now, widthMs["1m"]);
  const from = await startOf(db, "1m", options.latenessMs, options.earliest, sql`select min(ts) as t from gpu_metrics`);
  if (!from || from >= until) return 0;
  const end = new Date(Math.min(until.getTime(), from.getTime() + options.maxSpanMs));
  const rows = await queryRows<{ n: number }>(
    db,
    sql`with up as (
      insert into gpu_metrics_1m (gpu_id, bucket, samples, utilization_avg, utilization_max, memory_used_avg,
        memory_total_max, temperature_avg, temperature_max, power_draw_avg, power_draw_max)
      select gpu_id, date_trunc('minute', ts), count(*), avg(utilization_pct), max(utilization_pct), avg(memory_used_mb),
        max(memory_total_mb), avg(temperature_c), max(temperature_c), avg(power_draw_w), max(power_draw_w)
      from gpu_metrics
      where ts >= ${from.toISOString()}::timestamptz and ts < ${end.toISOString()}::timestamptz
      group by 1, 2
      on conflict (gpu_id, bucket) do update set samples = excluded.samples,
        utilization_avg = excluded.utilization_avg, utilization_max = excluded.utilization_max,
        memory_used_avg = excluded.memory_used_avg, memory_total_max = excluded.memory_total_max,
        temperature_avg = excluded.temperature_avg, temperature_max = excluded.temperature_max,
        power_draw_avg = excluded.power_draw_avg, power_draw_max = excluded.power_draw_max
      returning 1) select count(*)::int as n from up`,
  );
  await setMark(db, "1m", end);
  return Number(rows[0].n);
}

/** Rolls minute buckets into hours, up to the last hour whose minutes are all rolled. */
export async function rollupHours(
  db: Executor,
  options: { latenessMs: number; maxSpanMs: number; earliest: Date },
): Promise<number> {
  const minuteMark = await rollupMark(db, "1m");
  if (!minuteMark) return 0;
  const until = floorTo(minuteMark, widthMs["1h"]);
  const from = await startOf(
    db,
    "1h",
    widthMs["1h"],
    options.earliest,
    sql`select min(bucket) as t from gpu_metrics_1m`,
  );
  if (!from || from >= until) return 0;
  const end = new Date(Math.min(until.getTime(), from.getTime() + Math.max(options.maxSpanMs, widthMs["1h"])));
  // Averages are weighted by each minute's sample count, so an hour's average equals the average of its samples.
  const rows = await queryRows<{ n: number }>(
    db,
    sql`with up as (
      insert into gpu_metrics_1h (gpu_id, bucket, samples, utilization_avg, utilization_max, memory_used_avg,
        memory_total_max, temperature_avg, temperature_max, power_draw_avg, power_draw_max)
      select gpu_id, date_trunc('hour', bucket), sum(samples),
        sum(utilization_avg * samples) / nullif(sum(case when utilization_avg is not null then samples end), 0),
        max(utilization_max),
        sum(memory_used_avg * samples) / nullif(sum(case when memory_used_avg is not null then samples end), 0),
        max(memory_total_max),
        sum(temperature_avg * samples) / nullif(sum(case when temperature_avg is not null then samples end), 0),
        max(temperature_max),
        sum(power_draw_avg * samples) / nullif(sum(case when power_draw_avg is not null then samples end), 0),
        max(power_draw_max)
      from gpu_metrics_1m
      where bucket >= ${from.toISOString()}::timestamptz and bucket < ${end.toISOString()}::timestamptz
      group by 1, 2
      on conflict (gpu_id, bucket) do update set samples = excluded.samples,
        utilization_avg = excluded.utilization_avg, utilization_max = excluded.utilization_max,
        memory_used_avg = excluded.memory_used_avg, memory_total_max = excluded.memory_total_max,
        temperature_avg = excluded.temperature_avg, temperature_max = excluded.temperature_max,
        power_draw_avg = excluded.power_draw_avg, power_draw_max = excluded.power_draw_max
      returning 1) select count(*)::int as n from up`,
  );
  await setMark(db, "1h", end);
  return Number(rows[0].n);
}

/** Where a pass starts: a little before the mark, or (first pass) at the oldest data still kept. */
async function startOf(db: Executor, name: Rollup, backMs: number, earliest: Date, oldest: ReturnType<typeof sql>) {
  const mark = await rollupMark(db, name);
  if (mark) return floorTo(new Date(Math.max(mark.getTime() - backMs, earliest.getTime())), widthMs[name]);
  const [row] = await queryRows<{ t: Date | null }>(db, oldest);
  if (!row?.t) return null;
  return floorTo(new Date(Math.max(new Date(row.t).getTime(), earliest.getTime())), widthMs[name]);
}
