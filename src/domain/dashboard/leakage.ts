import { sql } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import { queryRows } from "../../db/sql.js";
import { divRound, toMicros } from "../../lib/money.js";
import { gpuHoldingInstanceStates, gpuHoldingJobStates } from "../quota.js";
import { negativeBalancesSql, windowStart } from "./common.js";

/**
 * Revenue leakage: GPU time used but not charged, or charged but not collected. Four rules, each with an amount in
 * micro-dollars (exact; the route prints dollars):
 *
 * 1. unbilled_allocations — a GPU held in gpu_allocations with no paying workload: the instance or job it names is
 *    missing or no longer holds GPUs, it names neither, or the job has no price or no tenant. Amount: the GPU time
 *    held inside the window × a reference price per GPU-hour (the job's own price when it has one, else the mean
 *    price per GPU-hour of the fleet's instances of that model, else of all instances, else of priced jobs).
 * 2. unmetered_workloads — running work the meter has not charged lately: a running instance (or a running job
 *    with a price and a tenant) whose metered_until is older than two meter intervals, or that was never metered.
 *    Amount: its price × the time since metered_until (else since it started running).
 * 3. uninvoiced_charges — usage charges on no invoice (invoice_id null) from a closed billing period: created
 *    before the start of the current UTC calendar month, when the month's invoice should have taken them.
 *    Amount: the charges' sum.
 * 4. negative_balances — prepaid tenants whose balance is below zero: service delivered beyond their credits (the
 *    last interval before auto-stop, rounding, minimums). Amount: what they owe. An invoiced tenant's negative
 *    balance is receivables, not leakage: the KPIs' balance owed.
 */
export async function revenueLeakage(ctx: AppContext, days: number) {
  const now = ctx.clock.now();
  const since = windowStart(now, days);
  const [unbilled, unmetered, uninvoiced, negative] = [
    await unbilledAllocations(ctx, now, since),
    await unmeteredWorkloads(ctx, now),
    await uninvoicedCharges(ctx, now),
    await negativeBalances(ctx),
  ];
  const categories = {
    unbilled_allocations: unbilled,
    unmetered_workloads: unmetered,
    uninvoiced_charges: uninvoiced,
    negative_balances: negative,
  };
  const totalMicros = Object.values(categories).reduce((s, c) => s + c.amountMicros, 0n);
  return { days, totalMicros, categories };
}

const holdingInstances = sql.raw(gpuHoldingInstanceStates.map((s) => `'${s}'`).join(","));
const holdingJobs = sql.raw(gpuHoldingJobStates.map((s) => `'${s}'`).join(","));

async function unbilledAllocations(ctx: AppContext, now: Date, since: Date) {
  const rows = await queryRows<Record<string, any>>(
    ctx.db,
    sql`with ref as (
          select coalesce(
            (select avg(price_per_hour_micros / nullif(gpu_count, 0)) from instances where g.model ilike '%' || gpu_model || '%'),
            (select avg(price_per_hour_micros / nullif(gpu_count, 0)) from instances),
            (select avg(price_per_gpu_hour_micros) from jobs where price_per_gpu_hour_micros is not null),
            0)::bigint as price, a.gpu_id
          from gpu_allocations a join gpus g on g.id = a.gpu_id)
        select a.gpu_id, a.node_id, a.tenant_id, a.instance_id, a.job_id, g.model,
          extract(epoch from (${now.toISOString()}::timestamptz - greatest(a.created_at, ${since.toISOString()}::timestamptz)))::bigint as seconds,
          case
            when a.instance_id is null and a.job_id is null then 'no workload'
            when a.instance_id is not null and i.id is null then 'instance missing'
            when a.instance_id is not null and i.status not in (${holdingInstances}) then 'instance ' || i.status
            when a.job_id is not null and j.id is null then 'job missing'
            when a.job_id is not null and j.status not in (${holdingJobs}) then 'job ' || j.status
            when a.job_id is not null and j.price_per_gpu_hour_micros is null then 'job has no price'
            when a.job_id is not null and j.tenant_id is null then 'job has no tenant'
          end as reason,
          coalesce(j.price_per_gpu_hour_micros, ref.price) as price
        from gpu_allocations a join gpus g on g.id = a.gpu_id join ref on ref.gpu_id = a.gpu_id
        left join instances i on i.id = a.instance_id left join jobs j on j.id = a.job_id
        where (a.instance_id is null and a.job_id is null)
           or (a.instance_id is not null and (i.id is null or i.status not in (${holdingInstances})))
           or (a.job_id is not null and (j.id is null or j.status not in (${holdingJobs})
               or j.price_per_gpu_hour_micros is null or j.tenant_id is null))
        order by a.gpu_id`,
  );
  const items = rows.map((r) => {
    const seconds = BigInt(Math.max(0, Number(r.seconds)));
    return {
      gpuId: Number(r.gpu_id),
      nodeId: Number(r.node_id),
      tenantId: r.tenant_id === null ? null : Number(r.tenant_id),
      instanceId: r.instance_id,
      jobId: r.job_id === null ? null : Number(r.job_id),
      reason: r.reason as string,
      seconds: Number(seconds),
      amountMicros: divRound(toMicros(r.price) * seconds, 3600n),
    };
  });
  return summarise(items);
}

async function unmeteredWorkloads(ctx: AppContext, now: Date) {
  const stale = new Date(now.getTime() - 2 * ctx.config.meterIntervalMs).toISOString();
  const at = sql`${now.toISOString()}::timestamptz`;
  const rows = await queryRows<Record<string, any>>(
    ctx.db,
    sql`select 'instance' as kind, id::text as id, tenant_id, metered_until,
          extract(epoch from (${at} - coalesce(metered_until, running_since, updated_at)))::bigint as seconds,
          price_per_hour_micros as price_per_hour
        from instances
        where status = 'running' and (metered_until is null or metered_until < ${stale}::timestamptz)
        union all
        select 'job', id::text, tenant_id, metered_until,
          extract(epoch from (${at} - coalesce(metered_until, started_at, scheduled_at, created_at)))::bigint,
          price_per_gpu_hour_micros * gpu_count
        from jobs
        where status = 'running' and price_per_gpu_hour_micros is not null and tenant_id is not null
          and (metered_until is null or metered_until < ${stale}::timestamptz)
        order by 1, 2`,
  );
  const items = rows.map((r) => {
    const seconds = BigInt(Math.max(0, Number(r.seconds)));
    return {
      kind: r.kind as string,
      id: r.id as string,
      tenantId: Number(r.tenant_id),
      meteredUntil: r.metered_until ? new Date(r.metered_until).toISOString() : null,
      seconds: Number(seconds),
      amountMicros: divRound(toMicros(r.price_per_hour) * seconds, 3600n),
    };
  });
  return summarise(items);
}

async function uninvoicedCharges(ctx: AppContext, now: Date) {
  const periodStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const rows = await queryRows<{ tenant_id: number; n: number; amount: string; oldest: Date }>(
    ctx.db,
    sql`select tenant_id, count(*)::int as n, -sum(amount_micros) as amount, min(created_at) as oldest
        from ledger_entries
        where kind = 'usage' and invoice_id is null and created_at < ${periodStart.toISOString()}::timestamptz
        group by tenant_id order by tenant_id`,
  );
  return summarise(
    rows.map((r) => ({
      tenantId: Number(r.tenant_id),
      charges: Number(r.n),
      oldest: new Date(r.oldest).toISOString(),
      amountMicros: toMicros(r.amount),
    })),
  );
}

async function negativeBalances(ctx: AppContext) {
  const rows = await queryRows<{ tenant_id: number; owed: string }>(
    ctx.db,
    sql`select tenant_id, owed from (${negativeBalancesSql("prepaid")}) b order by owed desc, tenant_id`,
  );
  return summarise(rows.map((r) => ({ tenantId: Number(r.tenant_id), amountMicros: toMicros(r.owed) })));
}

/** Lists the 100 largest items; count and amount cover all. */
function summarise<T extends { amountMicros: bigint }>(items: T[]) {
  const amountMicros = items.reduce((s, i) => s + i.amountMicros, 0n);
  const top = [...items].sort((a, b) =>
    b.amountMicros > a.amountMicros ? 1 : b.amountMicros < a.amountMicros ? -1 : 0,
  );
  return { count: items.length, amountMicros, items: top.slice(0, 100) };
}
