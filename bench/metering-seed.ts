import pino from "pino";
import { loadConfig } from "../src/config.js";
import type { AppContext } from "../src/context.js";
import { openDatabase } from "../src/db/client.js";
import { EventBus } from "../src/lib/bus.js";
import { ManualClock } from "../src/lib/clock.js";

const INSTANCES_PER_TENANT = 10;

export async function seed(ctx: AppContext, n: number, start: Date) {
  const pool = ctx.database.pool!;
  const tenants = Math.ceil(n / INSTANCES_PER_TENANT);
  await pool.query(
    `insert into tenants (name, gpu_quota, created_at, updated_at)
     select 'bench-' || g, 1000, $1, $1 from generate_series(1, $2) g`,
    [start, tenants],
  );
  await pool.query(
    `insert into ledger_entries (tenant_id, kind, amount_micros, balance_after_micros, description, reference, created_at)
     select id, 'grant', 1000000000000, 1000000000000, 'bench credit', 'bench:' || id, $1 from tenants`,
    [start],
  );
  // Per-second and per-minute types, with and without a minimum, at prices that do not divide evenly.
  await pool.query(
    `insert into instances (id, tenant_id, name, instance_type_id, requested_type, image_id, region_id, gpu_count,
       gpu_model, price_per_hour_micros, billing_granularity_seconds, minimum_charge_micros, provider, status,
       ssh_key_ids, ssh_public_keys, created_at, updated_at, running_since)
     select 'inst_bench_' || lpad(g::text, 7, '0'), t.id, 'bench-' || g, 't', 't', 'ubuntu', 'r', 1, 'H100',
            (array[2490000, 3600000, 1234567, 98760000])[1 + g % 4], (array[1, 60])[1 + g % 2],
            (array[0, 100000])[1 + g % 2], 'simulator', 'running', '{}', '{}', $1, $1, $1
       from generate_series(1, $2) g
       join tenants t on t.id = 1 + (g - 1) / ${INSTANCES_PER_TENANT}`,
    [start, n],
  );
  await pool.query("analyze");
}

/** A context on `url` with the default settings, a hand-moved clock and no workers, as the meter sees it. */
export async function benchContext(url: string) {
  const database = await openDatabase({ databaseUrl: url, poolSize: 4 });
  const clock = new ManualClock(new Date("2026-03-02T08:00:00Z"));
  const ctx = {
    database,
    db: database.db,
    config: loadConfig({ LOG_LEVEL: "silent" }),
    clock,
    log: pino({ level: "silent" }),
    kick() {},
    services: {} as AppContext["services"],
    bus: new EventBus(),
  } as AppContext;
  return { database, clock, ctx };
}
