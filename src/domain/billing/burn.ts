import { sql } from "drizzle-orm";
import type { Executor } from "../../db/client.js";
import { queryRows } from "../../db/sql.js";
import { toMicros } from "../../lib/money.js";

/**
 * A prepaid tenant's spending right now, the input of auto-stop and of the console's warning banner.
 *
 * - `ratePerHour`: what its running instances and jobs cost per hour together.
 * - `reserve`: the most the meter can still charge if the work runs one more meter interval and is then stopped:
 *   per instance the whole units that interval can complete (ceil(interval / granularity) units) plus the last
 *   unit the closing pass rounds up (or the run's minimum charge, if larger), plus a micro-dollar of rounding;
 *   per job (billed per second) the interval and one second. While the balance covers the reserve the work may run
 *   until the next pass; below it, it is stopped now, and the closing charge (at most one unit per instance) still
 *   fits in what is left: the balance ends at or above zero, never below zero minus one billing unit.
 */
export interface Burn {
  tenantId: number;
  balance: bigint;
  ratePerHour: bigint;
  reserve: bigint;
  warnedAt: Date | null;
}

/** Burn of every prepaid tenant with running work or a pending warning (`tenantId` narrows it to one). */
export async function prepaidBurn(executor: Executor, intervalSeconds: number, tenantId?: number): Promise<Burn[]> {
  const interval = Math.max(1, Math.ceil(intervalSeconds));
  const rows = await queryRows<{
    tenant_id: number;
    balance: unknown;
    rate: unknown;
    reserve: unknown;
    warned_at: string | Date | null;
  }>(
    executor,
    sql`
    with inst as (
      select tenant_id, sum(price_per_hour_micros) as rate,
             sum(ceil(price_per_hour_micros::numeric * ceil(${interval}::numeric / g) * g / 3600)
                 + greatest(ceil(price_per_hour_micros::numeric * g / 3600), minimum_charge_micros) + 1) as reserve
        from (select tenant_id, price_per_hour_micros, minimum_charge_micros,
                     greatest(billing_granularity_seconds, 1) as g
                from instances where status = 'running') i
       group by tenant_id
    ),
    job as (
      select tenant_id, sum(gpu_count::numeric * price_per_gpu_hour_micros) as rate,
             sum(ceil(gpu_count::numeric * price_per_gpu_hour_micros * (${interval} + 1) / 3600) + 1) as reserve
        from jobs
       where status = 'running' and tenant_id is not null and price_per_gpu_hour_micros is not null
       group by tenant_id
    )
    select t.id as tenant_id,
           coalesce((select l.balance_after_micros from ledger_entries l
                      where l.tenant_id = t.id order by l.id desc limit 1), 0) as balance,
           coalesce(inst.rate, 0) + coalesce(job.rate, 0) as rate,
           coalesce(inst.reserve, 0) + coalesce(job.reserve, 0) as reserve,
           t.auto_stop_warned_at as warned_at
      from tenants t
      left join inst on inst.tenant_id = t.id
      left join job on job.tenant_id = t.id
     where t.billing_mode = 'prepaid'
       and (inst.tenant_id is not null or job.tenant_id is not null or t.auto_stop_warned_at is not null)
       ${tenantId !== undefined ? sql`and t.id = ${tenantId}` : sql``}
     order by t.id`,
  );
  return rows.map((r) => ({
    tenantId: Number(r.tenant_id),
    balance: toMicros(r.balance),
    ratePerHour: toMicros(r.rate),
    reserve: toMicros(r.reserve),
    warnedAt: r.warned_at === null ? null : new Date(r.warned_at),
  }));
}

/** Seconds the balance lasts at the burn rate before auto-stop (which keeps `reserve` back); null when idle. */
export function runwaySeconds(burn: Pick<Burn, "balance" | "ratePerHour" | "reserve">): number | null {
  if (burn.ratePerHour <= 0n) return null;
  const spendable = burn.balance - burn.reserve;
  if (spendable <= 0n) return 0;
  return Number((spendable * 3600n) / burn.ratePerHour);
}

/** Auto-stop is due: the balance no longer covers one more meter interval and the closing charges. */
export const mustStop = (burn: Burn) => burn.ratePerHour > 0n && burn.balance < burn.reserve;

/** The warning is due: less than `warnSeconds` of runway left. */
export const shouldWarn = (burn: Burn, warnSeconds: number) => {
  const runway = runwaySeconds(burn);
  return runway !== null && runway < warnSeconds;
};
