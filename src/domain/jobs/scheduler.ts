/**
 * One scheduling pass over the whole queue, against the database. The policy (queue order by priority, age and
 * estimate, best fit on one node, quota, reservation with backfill against starvation) lives in plan.ts and is
 * shared with the replay.
 *
 * Shape of a pass, for speed: read the queue, the tenants' quotas and usage, the fleet's GPUs and the catalog once;
 * plan in memory; write every placement with a handful of multi-row statements (unnest arrays), all in ONE
 * transaction. 10,000 queued jobs on 8,000 GPUs take well under a second (bench/scheduler.ts).
 *
 * Safety with several replicas on one database:
 * - the worker runs under its advisory lock, and the pass also takes a transaction-level advisory lock, so two
 *   passes (two replicas, or direct calls) never plan from the same snapshot;
 * - the tenants in the queue are locked (FOR UPDATE, in id order) before usage is read, the same lock assertQuota
 *   takes when an instance is created, so instances and jobs cannot together pass a quota;
 * - gpu_allocations' primary key is the last word on a GPU: allocations are inserted with ON CONFLICT DO NOTHING,
 *   and a job that did not get every GPU it was planned (an instance took one meanwhile) gives back the rest and
 *   stays queued for the next pass;
 * - the status update only moves jobs still queued/blocked (a cancel may land mid-pass); a job whose update found
 *   nothing gives its allocations back.
 */
import { sql } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import type { Executor } from "../../db/client.js";
import { intArray, queryRows, textArray } from "../../db/sql.js";
import { divRound, microsToUsd, toMicros } from "../../lib/money.js";
import { clusterImageReports, jobImageBlock } from "../agent/images.js";
import { type EventInput, emitEvents } from "../events/emit.js";
import { modelMatches } from "../gpu-model.js";
import { gpuHoldingInstanceStates, gpuHoldingJobStates } from "../quota.js";
import { blockPrefixes, type PlanJob, type PlanPool, planPass, queueOrder } from "./plan.js";

export interface PassResult {
  queued: number;
  scheduled: number;
  blocked: number;
  reservations: number;
  ms: number;
  /** Milliseconds per phase of the pass (queue, tenants, fleet, plan, write, events), for profiling. */
  phases: Record<string, number>;
}

/** SQL condition: jobs the scheduler considers (queued, or blocked by the scheduler itself rather than held). */
export const schedulableCondition = sql.raw(
  `(jobs.status = 'queued' or (jobs.status = 'blocked' and (${blockPrefixes.map((p) => `jobs.block_reason like '${p}%'`).join(" or ")})))`,
);

export async function runSchedulerPass(ctx: AppContext, options: { maxReservations?: number } = {}) {
  const started = performance.now();
  const result = await ctx.db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('gpuplane:scheduler:pass'))`);
    return passInTransaction(ctx, tx, options);
  });
  if (result.scheduled) ctx.log.info(result, "scheduler pass");
  return { ...result, ms: Math.round(performance.now() - started) } satisfies PassResult;
}

interface QueueRow {
  id: number;
  cluster_id: number;
  tenant_id: number | null;
  gpu_count: number;
  gpu_type: string | null;
  status: string;
  estimated_duration_min: number | null;
  priority: number;
  created_at: Date | string;
  has_command: boolean;
  image: string | null;
}

async function passInTransaction(ctx: AppContext, tx: Executor, options: { maxReservations?: number }) {
  const now = ctx.clock.now();
  const phases: Record<string, number> = {};
  let mark = performance.now();
  const phase = (name: string) => {
    const t = performance.now();
    phases[name] = Math.round(t - mark);
    mark = t;
  };
  // Only what planning needs: names are returned by the update for the rows that change (for events), and
  // whether a block reason changed is decided by the update itself.
  const queue = await queryRows<QueueRow>(
    tx,
    sql`select id, cluster_id, tenant_id, gpu_count, gpu_type, status, estimated_duration_min, priority, created_at,
          command is not null as has_command, image
        from jobs where ${schedulableCondition} order by priority, id`,
  );
  phase("queue");
  if (!queue.length) return { queued: 0, scheduled: 0, blocked: 0, reservations: 0, phases };

  const tenantIds = [...new Set(queue.map((j) => j.tenant_id).filter((t): t is number => t !== null))];
  const { quotas, balances } = await loadTenants(tx, tenantIds);
  phase("tenants");
  const clusterIds = [...new Set(queue.map((j) => j.cluster_id))];
  const { pools, agentless } = await loadPools(tx, clusterIds, now.getTime());
  const prices = await loadPrices(tx, [...new Set(pools.map((p) => p.model))]);
  phase("fleet");

  // Credits: a prepaid tenant at or below zero gets no new GPUs for its (paid) jobs; they wait, not planned at all,
  // so they hold no reservation and their quota is not counted. Invoiced tenants run on account (no balance here).
  const broke = new Map<number, string>();
  for (const [tenantId, balance] of balances) {
    if (balance <= 0n)
      broke.set(tenantId, `credits: tenant ${tenantId} balance is $${microsToUsd(balance)}; add credits to run jobs`);
  }
  // An image that no node of the job's cluster has nor can pull: the job waits (an operator loads it), not planned.
  const imageBlocked = await blockedByImage(tx, queue);
  const jobs: PlanJob[] = [];
  for (const j of queue) {
    if (j.tenant_id !== null && broke.has(j.tenant_id)) continue;
    if (imageBlocked.has(j.id)) continue;
    jobs.push({
      id: j.id,
      priority: j.priority,
      submittedAt: new Date(j.created_at).getTime(),
      clusterId: j.cluster_id,
      tenantId: j.tenant_id,
      gpuCount: j.gpu_count,
      gpuType: j.gpu_type,
      estimateMs: j.estimated_duration_min === null ? null : j.estimated_duration_min * 60_000,
    });
  }
  const plan = planPass(pools, queueOrder(jobs, now.getTime()), quotas, {
    now: now.getTime(),
    maxReservations: options.maxReservations,
  });
  const blocked = plan.blocked;
  for (const j of queue) {
    if (j.tenant_id !== null && broke.has(j.tenant_id)) blocked.set(j.id, broke.get(j.tenant_id)!);
    else if (imageBlocked.has(j.id)) blocked.set(j.id, imageBlocked.get(j.id)!);
  }
  phase("plan");

  // ONE statement writes the pass: the GPU claims (the primary key refuses a GPU someone else took meanwhile), the
  // placed jobs (only those that got every GPU they were planned, and only if still waiting: a cancel may have
  // landed), and the waiting jobs whose reason changed. It returns the rows it moved, with their names for events.
  const alloc = { gpu: [] as number[], node: [] as number[], tenant: [] as (number | null)[], job: [] as number[] };
  for (const p of plan.placements) {
    for (const g of p.gpus) {
      alloc.gpu.push(g.id);
      alloc.node.push(p.pool.nodeId);
      alloc.tenant.push(p.job.tenantId);
      alloc.job.push(p.job.id);
    }
  }
  const withCommand = new Set(queue.filter((j) => j.has_command).map((j) => j.id));
  const rows = {
    id: [] as number[],
    status: [] as string[],
    node: [] as (number | null)[],
    idx: [] as (string | null)[],
  };
  const more = { price: [] as (string | null)[], reason: [] as (string | null)[], need: [] as number[] };
  for (const p of plan.placements) {
    rows.id.push(p.job.id);
    // Only a job with nothing to execute (tracked, run elsewhere) runs at once on an agent-less node: one with a
    // command waits, scheduled and unbilled, for an agent to say it started (nothing would ever execute it).
    rows.status.push(agentless.has(p.pool.nodeId) && !withCommand.has(p.job.id) ? "running" : "scheduled");
    rows.node.push(p.pool.nodeId);
    rows.idx.push(`{${p.gpus.map((g) => g.index).join(",")}}`);
    more.price.push(p.job.tenantId === null ? null : (prices.get(p.pool.model)?.toString() ?? null));
    more.reason.push(null);
    more.need.push(p.gpus.length);
  }
  for (const [id, reason] of blocked) {
    rows.id.push(id);
    rows.status.push("blocked");
    rows.node.push(null);
    rows.idx.push(null);
    more.price.push(null);
    more.reason.push(reason);
    more.need.push(0);
  }
  const moved = rows.id.length
    ? await queryRows<{ id: number; name: string; status: string }>(
        tx,
        sql`with claimed as (
              insert into gpu_allocations (gpu_id, node_id, tenant_id, job_id, created_at)
              select g, n, t, j, ${now} from unnest(${intArray(alloc.gpu)}::int[], ${intArray(alloc.node)}::int[],
                ${intArray(alloc.tenant)}::int[], ${intArray(alloc.job)}::int[]) as a(g, n, t, j)
              on conflict (gpu_id) do nothing
              returning job_id
            ), got as (select job_id, count(*)::int as n from claimed group by job_id)
            update jobs set status = v.status, block_reason = v.reason,
              node_id = case when v.node is null then jobs.node_id else v.node end,
              gpu_indices = case when v.node is null then jobs.gpu_indices else v.idx::int[] end,
              price_per_gpu_hour_micros = case when v.node is null then jobs.price_per_gpu_hour_micros else v.price end,
              scheduled_at = case when v.node is null then jobs.scheduled_at else ${now}::timestamptz end,
              started_at = case when v.node is null then jobs.started_at
                                when v.status = 'running' then ${now}::timestamptz end
            from unnest(${intArray(rows.id)}::int[], ${textArray(rows.status)}::text[], ${intArray(rows.node)}::int[],
                        ${textArray(rows.idx)}::text[], ${textArray(more.price)}::bigint[],
                        ${textArray(more.reason)}::text[], ${intArray(more.need)}::int[])
                   as v(id, status, node, idx, price, reason, need)
              left join got on got.job_id = v.id
            where jobs.id = v.id and ${schedulableCondition}
              and (case when v.node is null
                     then jobs.status <> 'blocked' or jobs.block_reason is distinct from v.reason
                     else got.n = v.need end)
            returning jobs.id, jobs.name, jobs.status`,
      )
    : [];
  const movedIds = new Set(moved.map((r) => r.id));
  // A planned job that did not move (it lost a GPU to an instance, or was cancelled) gives back what it claimed.
  const lost = plan.placements.filter((p) => !movedIds.has(p.job.id)).map((p) => p.job.id);
  if (lost.length) await tx.execute(sql`delete from gpu_allocations where job_id = any(${intArray(lost)}::int[])`);
  phase("write");

  // Events, in the same transaction (outbox): one bulk emit for the whole pass.
  const placements = new Map(plan.placements.map((p) => [p.job.id, p]));
  const byId = new Map(queue.map((j) => [j.id, j]));
  const events: EventInput[] = [];
  let scheduled = 0;
  for (const r of moved) {
    const row = byId.get(r.id)!;
    if (r.status === "blocked") {
      // Already blocked: a new reason is not a new event.
      if (row.status !== "blocked") {
        const reason = blocked.get(r.id)!;
        events.push({ tenantId: row.tenant_id, type: "job.blocked", data: { job_id: r.id, name: r.name, reason } });
      }
      continue;
    }
    scheduled++;
    const p = placements.get(r.id)!;
    const data = {
      job_id: r.id,
      name: r.name,
      node_id: p.pool.nodeId,
      gpu_indices: p.gpus.map((g) => g.index),
      gpu_model: p.pool.model,
    };
    events.push({ tenantId: row.tenant_id, type: "job.scheduled", data: { ...data, status: "scheduled" } });
    if (r.status === "running") {
      events.push({ tenantId: row.tenant_id, type: "job.running", data: { ...data, status: "running" } });
    }
  }
  await emitEvents(tx, events, now);
  phase("events");

  return {
    queued: queue.length,
    scheduled,
    blocked: blocked.size,
    reservations: plan.reservations.length,
    phases,
  };
}

/**
 * Each queued tenant's quota, GPUs in use (instances and jobs) and, for prepaid tenants only, credit balance (an
 * invoiced tenant runs on account: no entry in `balances`). The tenant rows are locked first (in id order, as
 * assertQuota does) in a statement of their own, so that usage is read after any concurrent instance create that
 * held the lock has committed; usage and balances then come in one query.
 */
async function loadTenants(tx: Executor, tenantIds: number[]) {
  const quotas = new Map<number, { limit: number; used: number }>();
  const balances = new Map<number, bigint>();
  if (!tenantIds.length) return { quotas, balances };
  const ids = intArray(tenantIds);
  const rows = await queryRows<{ id: number; gpu_quota: number; billing_mode: string }>(
    tx,
    sql`select id, gpu_quota, billing_mode from tenants where id = any(${ids}::int[]) order by id for update`,
  );
  const prepaid = new Set<number>();
  for (const r of rows) {
    quotas.set(r.id, { limit: r.gpu_quota, used: 0 });
    if (r.billing_mode === "prepaid") prepaid.add(r.id);
  }
  // Balance as currentBalance (billing/ledger.ts) reads it: the newest entry's balance_after, 0 without entries.
  const state = await queryRows<{ id: number; used: number | null; balance: unknown }>(
    tx,
    sql`select t.id, u.n::int as used,
          (select l.balance_after_micros from ledger_entries l where l.tenant_id = t.id order by l.id desc limit 1)
            as balance
        from unnest(${ids}::int[]) as t(id)
        left join (
          select tenant_id, sum(gpu_count) as n from (
            select tenant_id, gpu_count from instances
              where tenant_id = any(${ids}::int[]) and status = any(${textArray(gpuHoldingInstanceStates)}::text[])
            union all
            select tenant_id, gpu_count from jobs
              where tenant_id = any(${ids}::int[]) and status = any(${textArray(gpuHoldingJobStates)}::text[])
          ) x group by tenant_id
        ) u on u.tenant_id = t.id`,
  );
  for (const r of state) {
    const q = quotas.get(r.id);
    if (q) q.used = Number(r.used ?? 0);
    if (prepaid.has(r.id)) balances.set(r.id, r.balance === null ? 0n : toMicros(r.balance));
  }
  return { quotas, balances };
}

/** Healthy GPUs on active nodes of the given clusters, grouped into pools with what holds the taken ones. */
/** Jobs with an image (run in a container) whose cluster has no node that has it or may pull it, with the reason. */
async function blockedByImage(tx: Executor, queue: QueueRow[]): Promise<Map<number, string>> {
  const blocked = new Map<number, string>();
  const withImage = queue.filter((j) => j.image && j.has_command);
  if (!withImage.length) return blocked;
  const reports = await clusterImageReports(tx, [...new Set(withImage.map((j) => j.cluster_id))]);
  for (const j of withImage) {
    const reason = jobImageBlock(j.cluster_id, j.image!, reports.get(j.cluster_id) ?? []);
    if (reason) blocked.set(j.id, reason);
  }
  return blocked;
}

async function loadPools(tx: Executor, clusterIds: number[], now: number) {
  const gpus = await queryRows<{
    id: number;
    node_id: number;
    cluster_id: number;
    gpu_index: number;
    model: string;
    agentless: boolean;
    job_id: number | null;
    instance_id: string | null;
    taken: boolean;
    since: Date | string | null;
    estimate: number | null;
  }>(
    tx,
    sql`select g.id, g.node_id, n.cluster_id, g.gpu_index, g.model, n.last_heartbeat_at is null as agentless,
          a.job_id, a.instance_id, a.gpu_id is not null as taken,
          coalesce(j.started_at, j.scheduled_at) as since, j.estimated_duration_min as estimate
        from gpus g
        join nodes n on n.id = g.node_id
        left join gpu_allocations a on a.gpu_id = g.id
        left join jobs j on j.id = a.job_id
        where g.health = 'healthy' and n.status = 'active' and n.cluster_id = any(${intArray(clusterIds)}::int[])
        order by g.node_id, g.gpu_index`,
  );
  const pools = new Map<string, PlanPool & { holders: Map<string, { end: number; gpus: number }> }>();
  const agentless = new Set<number>();
  for (const g of gpus) {
    if (g.agentless) agentless.add(g.node_id);
    const key = `${g.node_id}|${g.model}`;
    let pool = pools.get(key);
    if (!pool) {
      pool = {
        nodeId: g.node_id,
        clusterId: g.cluster_id,
        model: g.model,
        total: 0,
        free: [],
        releases: [],
        holders: new Map(),
      };
      pools.set(key, pool);
    }
    pool.total++;
    if (!g.taken) {
      pool.free.push({ id: g.id, index: g.gpu_index });
      continue;
    }
    const holder = g.job_id !== null ? `j${g.job_id}` : `i${g.instance_id}`;
    let h = pool.holders.get(holder);
    if (!h) {
      // Instances run until stopped: no expected end. Jobs: their estimate from when they started.
      const since = g.since ? new Date(g.since).getTime() : now;
      const end =
        g.job_id === null ? Number.POSITIVE_INFINITY : since + (g.estimate === null ? 3_600_000 : g.estimate * 60_000);
      h = { end, gpus: 0 };
      pool.holders.set(holder, h);
    }
    h.gpus++;
  }
  for (const pool of pools.values()) pool.releases = [...pool.holders.values()];
  return { pools: [...pools.values()], agentless };
}

/** Cheapest per-GPU hourly price of an active instance type whose gpu_model names the GPU's model as a word. */
async function loadPrices(tx: Executor, models: string[]): Promise<Map<string, bigint>> {
  const prices = new Map<string, bigint>();
  if (!models.length) return prices;
  const types = await queryRows<{ gpu_model: string; gpu_count: number; price: unknown }>(
    tx,
    sql`select gpu_model, gpu_count, price_per_hour_micros as price from instance_types where active and gpu_count > 0`,
  );
  for (const model of models) {
    for (const t of types) {
      if (!modelMatches(t.gpu_model, model)) continue;
      const perGpu = divRound(toMicros(t.price), BigInt(t.gpu_count));
      const current = prices.get(model);
      if (current === undefined || perGpu < current) prices.set(model, perGpu);
    }
  }
  return prices;
}
