import { sql } from "drizzle-orm";
import type { Executor } from "../../db/client.js";
import { queryRows } from "../../db/sql.js";
import { DAY_MS } from "./settings.js";

/** gpu_metrics_p20260302 holds [2026-03-02T00:00Z, 2026-03-03T00:00Z). */
export const partitionName = (day: Date) => `gpu_metrics_p${day.toISOString().slice(0, 10).replaceAll("-", "")}`;
const startOfDay = (at: Date) => new Date(Math.floor(at.getTime() / DAY_MS) * DAY_MS);

export async function listPartitions(db: Executor): Promise<{ name: string; day: Date }[]> {
  const rows = await queryRows<{ name: string }>(
    db,
    sql`select c.relname as name from pg_inherits i
        join pg_class c on c.oid = i.inhrelid join pg_class p on p.oid = i.inhparent
        where p.relname = 'gpu_metrics' and c.relname ~ '^gpu_metrics_p[0-9]{8}$' order by 1`,
  );
  return rows.map((r) => {
    const d = r.name.slice("gpu_metrics_p".length);
    return { name: r.name, day: new Date(`${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T00:00:00Z`) };
  });
}

/**
 * Creates the daily partitions from yesterday to `ahead` days after today. Samples for a day with no partition sit in
 * gpu_metrics_default; creating that day's partition moves them in first, because PostgreSQL refuses to attach a
 * range whose rows are still in the default partition. Runs under the worker's lock, so one replica does it.
 */
export async function ensurePartitions(db: Executor, now: Date, ahead: number): Promise<string[]> {
  const existing = new Set((await listPartitions(db)).map((p) => p.name));
  const created: string[] = [];
  const today = startOfDay(now);
  for (let i = -1; i <= ahead; i++) {
    const day = new Date(today.getTime() + i * DAY_MS);
    const name = partitionName(day);
    if (existing.has(name)) continue;
    await createPartition(db, day);
    created.push(name);
  }
  return created;
}

async function createPartition(db: Executor, day: Date): Promise<void> {
  const name = sql.raw(`"${partitionName(day)}"`);
  const from = day.toISOString();
  const to = new Date(day.getTime() + DAY_MS).toISOString();
  const inRange = sql`ts >= ${from}::timestamptz and ts < ${to}::timestamptz`;
  await db.transaction(async (tx) => {
    await tx.execute(sql`create table ${name} (like gpu_metrics including defaults)`);
    await tx.execute(sql`insert into ${name} select * from gpu_metrics_default where ${inRange}`);
    await tx.execute(sql`delete from gpu_metrics_default where ${inRange}`);
    await tx.execute(
      sql`alter table gpu_metrics attach partition ${name} for values from (${sql.raw(`'${from}'`)}) to (${sql.raw(`'${to}'`)})`,
    );
  });
}

/** Drops whole days of raw samples older than the cutoff (cheap: no row-by-row delete), and old strays in default. */
export async function dropPartitionsBefore(db: Executor, cutoff: Date): Promise<string[]> {
  const dropped: string[] = [];
  for (const p of await listPartitions(db)) {
    if (p.day.getTime() + DAY_MS <= cutoff.getTime()) {
      await db.execute(sql.raw(`drop table if exists "${p.name}"`));
      dropped.push(p.name);
    }
  }
  await db.execute(sql`delete from gpu_metrics_default where ts < ${cutoff.toISOString()}::timestamptz`);
  return dropped;
}
