import { sql } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import type { Executor } from "../../db/client.js";
import { queryRows } from "../../db/sql.js";
import { toMicros } from "../../lib/money.js";

/**
 * Metering: one set-based pass charges every running instance, every running job whose tenant pays and every
 * volume for the time since it was last charged. Rules (README "Billing"):
 *
 * - A run is [running_since, end): end is now while the instance is running (or stopping/deleting until the node
 *   agent confirms the container stopped), else its stopped_at (or deleted_at).
 *   Jobs: [started_at, finished_at or now), gpu_count × price_per_gpu_hour. Volumes: [created_at, deleted_at or now),
 *   size_gb × price_per_gb_month prorated per second on a 30-day month (2,592,000 s).
 * - Time is billed in units of the type's billing_granularity_seconds (1 = per second, 60 = per minute), counted
 *   from the run's start. While a run is open a pass bills the whole units elapsed so far (floor); the pass that
 *   closes it bills the last partial unit rounded UP. So a run of d seconds bills ceil(d / g) × g seconds in total,
 *   however many passes it spans.
 * - Money is cumulative per run: a pass charges C(billed seconds now) − C(billed seconds before), with
 *   C(s) = round_half_up(s × price_per_hour / 3600) in micro-dollars. The sum over passes telescopes to C(total),
 *   so the run costs exactly what one computation over the whole run would (no per-pass rounding drift).
 * - The closing pass raises the run's total to minimum_charge_micros if it is below it. A run that lasted no time at
 *   all (stopped in the instant it started) costs nothing, minimum included.
 * - Each charge's ledger reference is `usage:<subject>:<id>:<run start µs>:<charged-from µs>`: a repeat of the same
 *   interval (crash, restart, a second replica) conflicts instead of charging twice. The rows charged are locked
 *   when read, and metered_until moves in the same transaction as the charge: both commit or neither does.
 */

const SECONDS_PER_MONTH = 30 * 24 * 3600;
/**
 * An instance's run is open while it runs, while a stop or delete waits for its confirmation (stopped_at unset): the
 * node agent's that the container stopped, or an upstream cloud's; and while its cloud keeps charging it stopped
 * (billed_while_stopped, Verda): the lifecycle leaves stopped_at unset until the run really ends (record.ts).
 */
const openRun = sql.raw(
  `(i.status = 'running' or (i.status not in ('deleted', 'failed') and i.running_since is not null and i.stopped_at is null))`,
);

export interface MeterResult {
  charged: number;
  closed: number;
  /** Balance after this pass for every tenant charged in it. */
  balances: Map<number, bigint>;
}

/** Runs one metering pass in its own transaction, serialised with any other pass (any replica) by a lock. */
export async function meterPass(ctx: AppContext): Promise<MeterResult> {
  const now = ctx.clock.now();
  return ctx.db.transaction((tx) => chargeDue(tx, now));
}

/**
 * The pass itself, inside the caller's transaction; `now` is the end of every open interval. With `instanceId` it
 * charges that one instance only (billing's subscriber to instance.run-reopening: the caller holds the instance's row lock).
 */
export async function chargeDue(tx: Executor, now: Date, scope: { instanceId?: string } = {}): Promise<MeterResult> {
  const at = sql`${now.toISOString()}::timestamptz`;
  const one = scope.instanceId !== undefined;
  const dueInstances = one
    ? sql`running_since is not null and id = ${scope.instanceId}`
    : sql`running_since is not null`;
  const dueJobs = one ? sql`false` : dueJobsAll;
  const dueVolumes = one ? sql`false` : dueVolumesAll;
  // One pass at a time: a second replica's pass waits here and then sees this one's committed metered_until.
  // For this transaction only: room to sort and hash 100k rows in memory, and no JIT (compiling the ledger insert's
  // expressions cost more than the whole insert; plans here are cheap to run as they are). Durability is untouched.
  await tx.execute(
    one
      ? sql`select set_config('work_mem', '64MB', true), set_config('jit', 'off', true)`
      : sql`select pg_advisory_xact_lock(hashtext('gpuplane:meter')), set_config('work_mem', '64MB', true), set_config('jit', 'off', true)`,
  );
  // Ledger writers (sign-up, grants, top-ups) lock the tenant row; lock the same rows, in id order, so every
  // balance_after below follows the newest entry. A separate statement: the charge below must see what they committed
  // (its snapshot is taken when it starts, after these locks are held).
  await tx.execute(sql`
    select id from tenants where id in (
      select tenant_id from instances where ${dueInstances}
      union select tenant_id from jobs where ${dueJobs}
      union select tenant_id from volumes where ${dueVolumes}
    ) order by id for update`);
  // Rows a lifecycle transaction holds are left for the next pass (SKIP LOCKED): that transaction may be waiting for
  // one of the tenant rows locked above (startInstance checks quota, the instance.run-reopening subscriber charges), and waiting for it
  // here would deadlock. What is skipped stays uncharged, not lost: its metered_until has not moved.
  const lock = one ? sql`for update` : sql`for update skip locked`;
  // Instances read their upstream launch (cost) through an outer join: only the instance rows are locked.
  const lockInstances = one ? sql`for update of i` : sql`for update of i skip locked`;
  // The whole pass in one statement: the due rows are read (and locked) once, priced once (\`charges\`, materialised),
  // and the same statement moves metered_until and writes the ledger rows (data-modifying CTEs), so nothing crosses
  // to JavaScript but one row per tenant charged. All of it commits with the transaction or none of it does.
  const rows = await queryRows<{ tenant_id: number | null; balance: unknown; charged: unknown; closed: unknown }>(
    tx,
    sql`
    with due_instances as (
      select 'instance'::text as subject, i.id::text as subject_id, i.tenant_id,
             i.running_since as r,
             greatest(coalesce(i.metered_until, i.running_since), i.running_since) as s,
             case when ${openRun} then ${at}
                  else coalesce(case when i.stopped_at >= i.running_since then i.stopped_at end,
                                case when i.deleted_at >= i.running_since then i.deleted_at end,
                                least(i.updated_at, ${at})) end as e,
             not ${openRun} as closing,
             i.price_per_hour_micros::numeric as rate_num, 3600::numeric as rate_den,
             greatest(i.billing_granularity_seconds, 1) as g, i.minimum_charge_micros::numeric as minimum,
             ul.upstream_cost_per_hour_micros::numeric as cost_rate, greatest(ul.cost_increment_seconds, 1) as cost_g
        from instances i
        left join upstream_launches ul on ul.instance_id = i.id
       where ${dueInstances}
         ${lockInstances}
    ),
    due_jobs as (
      select 'job'::text as subject, j.id::text as subject_id, j.tenant_id, j.started_at as r,
             greatest(coalesce(j.metered_until, j.started_at), j.started_at) as s,
             case when j.status = 'running' then ${at} else coalesce(j.finished_at, j.metered_until, j.started_at) end as e,
             j.status <> 'running' as closing,
             j.gpu_count::numeric * j.price_per_gpu_hour_micros as rate_num, 3600::numeric as rate_den,
             1 as g, 0::numeric as minimum, null::numeric as cost_rate, 1 as cost_g
        from jobs j
       where ${dueJobs}
         ${lock}
    ),
    due_volumes as (
      select 'volume'::text as subject, v.id as subject_id, v.tenant_id, v.created_at as r,
             greatest(coalesce(v.metered_until, v.created_at), v.created_at) as s,
             case when v.status <> 'deleted' then ${at} else coalesce(v.deleted_at, v.metered_until, v.created_at) end as e,
             v.status = 'deleted' as closing,
             v.size_gb::numeric * v.price_per_gb_month_micros as rate_num, ${SECONDS_PER_MONTH}::numeric as rate_den,
             1 as g, 0::numeric as minimum, null::numeric as cost_rate, 1 as cost_g
        from volumes v
       where ${dueVolumes}
         ${lock}
    ),
    elapsed as (
      select d.*, round(extract(epoch from (d.s - d.r)))::bigint as done_s,
             extract(epoch from (greatest(d.e, d.s) - d.r)) as total_s
        from (select * from due_instances union all select * from due_jobs union all select * from due_volumes) d
    ),
    billed as (
      select x.*, greatest(x.done_s,
               (case when x.closing then ceil(x.total_s / x.g) else floor(x.total_s / x.g) end)::bigint * x.g) as new_s
        from elapsed x
    ),
    charges as materialized (
    select b.subject, b.subject_id, b.total_s, b.tenant_id, b.r, b.s, b.closing, b.done_s, b.new_s,
           -- A resold instance's upstream cost for the same seconds, as its cloud rounds them (cost_g, its increment):
           -- the customer's seconds are rounded to a multiple of it, so these are never more than what was billed.
           case when b.cost_rate is not null then
             div(2 * greatest(b.done_s, case when b.closing then least(b.new_s, ceil(b.total_s / b.cost_g)::bigint * b.cost_g)
                                              else b.new_s end) * b.cost_rate + 3600, 7200)
             - div(2 * b.done_s * b.cost_rate + 3600, 7200) end as cost,
           (case when b.closing and b.total_s > 0
                 then greatest(div(2 * b.new_s * b.rate_num + b.rate_den, 2 * b.rate_den), b.minimum)
                 else div(2 * b.new_s * b.rate_num + b.rate_den, 2 * b.rate_den) end)
           - div(2 * b.done_s * b.rate_num + b.rate_den, 2 * b.rate_den) as amount,
           'usage:' || b.subject || ':' || b.subject_id || ':' || floor(extract(epoch from b.r) * 1000000)::bigint
             || ':' || floor(extract(epoch from b.s) * 1000000)::bigint as reference
      from billed b
     where b.new_s > b.done_s or b.closing
    ),
    -- Move metered_until (a closed run also clears running_since, so the next start opens a new run).
    moved_instances as (
      update instances i
         set metered_until = case when p.closing then null else p.r + p.new_s * interval '1 second' end,
             running_since = case when p.closing then null else i.running_since end
        from charges p
       where p.subject = 'instance' and i.id = p.subject_id
    ),
    moved_jobs as (
      update jobs j set metered_until = p.r + p.new_s * interval '1 second'
        from charges p where p.subject = 'job' and j.id::text = p.subject_id
    ),
    moved_volumes as (
      update volumes v set metered_until = p.r + p.new_s * interval '1 second'
        from charges p where p.subject = 'volume' and v.id = p.subject_id
    ),
    -- One insert: balance_after runs per tenant from its newest entry, in the order the rows are inserted (ids ascend).
    opening as materialized (
      select t.tenant_id,
             coalesce((select l.balance_after_micros from ledger_entries l
                        where l.tenant_id = t.tenant_id order by l.id desc limit 1), 0) as balance
        from (select distinct tenant_id from charges where amount > 0 and tenant_id is not null) t
    ),
    ordered as (
      select c.*, o.balance - sum(c.amount) over (
               partition by c.tenant_id order by c.subject, c.subject_id collate "C" rows between unbounded preceding and current row
             ) as balance_after
        from charges c join opening o using (tenant_id)
       where c.amount > 0
    ),
    inserted as (
      insert into ledger_entries (tenant_id, kind, amount_micros, balance_after_micros, description, reference,
                                  instance_id, job_id, volume_id, period_start, period_end, quantity_seconds,
                                  upstream_cost_micros, created_at)
      select tenant_id, 'usage', -amount, balance_after,
             initcap(subject) || ' ' || subject_id || ': ' || (new_s - done_s) || ' s'
               || case when closing then ' (run closed)' else '' end,
             reference,
             case when subject = 'instance' then subject_id end,
             case when subject = 'job' then subject_id::int end,
             case when subject = 'volume' then subject_id end,
             s, r + new_s * interval '1 second', (new_s - done_s)::int, cost, ${at}
        from ordered
       order by tenant_id, subject, subject_id collate "C"
      on conflict (reference) do nothing
      returning tenant_id, balance_after_micros
    )
    select tenant_id, min(balance_after_micros) as balance, count(*) as charged, null::bigint as closed
      from inserted group by tenant_id
    union all
    select null, null, null, (select count(*) from charges where closing)`,
  );

  const balances = new Map<number, bigint>();
  let charged = 0;
  let closed = 0;
  for (const row of rows) {
    if (row.tenant_id === null) {
      closed = Number(row.closed);
      continue;
    }
    balances.set(Number(row.tenant_id), toMicros(row.balance));
    charged += Number(row.charged);
  }
  return { charged, closed, balances };
}

const dueJobsAll = sql.raw(
  `price_per_gpu_hour_micros is not null and tenant_id is not null and started_at is not null
   and (status = 'running' or metered_until is null or metered_until < finished_at)`,
);
const dueVolumesAll = sql.raw(`status <> 'deleted' or metered_until is null or metered_until < deleted_at`);
