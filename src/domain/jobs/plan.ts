/**
 * The scheduler's placement policy as a pure function: the database pass (scheduler.ts) and the trace replay
 * (replay/) both call `planPass`, so what the replay measures is what production does.
 *
 * Policy
 * - Order (queueOrder): priority 1 always first; below it a multifactor order, as Slurm's priority/multifactor
 *   weighs QoS, age and size: a job's place is its submit time + half its estimated run time + 60 s per priority
 *   level. So a higher priority goes first among jobs submitted together, short jobs pass long ones (shortest-job
 *   first cuts everyone's mean wait, Tiresias-style), and a lower priority that has waited long enough is not held
 *   behind a stream of fresh higher-priority work (the trace replay: strict priority made best-effort work wait
 *   longer than under greedy first-fit). Measured in docs/scheduler.md. One pass looks at the whole queue.
 * - Starvation guard (queueOrder): a job that has waited its guard goes ahead of every job that has not (priority
 *   1 still first). The guard follows the load: the queue's mean wait, at least 10 min and at most 25 min, times
 *   the job's GPU count (a multi-GPU job's reservation drains a node for it); a job that has waited twice
 *   its estimate, and at least 5 min, is guarded too. Among guarded jobs the same order applies, except that the
 *   estimate moves a job back by at most 2 h. Shortest-job first otherwise lets a long job be passed for as long
 *   as shorter work keeps arriving, which is what made the p99 queueing delay worse than greedy first-fit's in the
 *   replay: on a light queue the long jobs waited the whole fixed 25 min, and on a heavy one jobs of ten hours and
 *   more stayed last even among the guarded.
 * - Quota: a tenant's GPUs in use (jobs and instances) plus the job's must stay within its quota, else the job
 *   waits with "quota: …".
 * - Placement: all of a job's GPUs on ONE node (a pool: one GPU model on one node). Type-aware best fit: a job
 *   that accepts several models (no gpu_type, or 'A|B') leaves empty nodes of the largest size for last, then
 *   avoids models that typed jobs in the queue are waiting for, then takes the model with the most free GPUs,
 *   and within it the pool with the fewest free GPUs that still has enough (best fit). So untyped work does not
 *   crowd the scarce models out from under the typed jobs, and whole large nodes stay free for large jobs.
 *   A job that accepts one model gets plain best fit. A job of more than one GPU (typed or not) goes instead
 *   where FGD's fragmentation score (Weng et al., ATC 2023) grows least: for each size × type of job in the queue,
 *   weighted by its share, the free GPUs of a node that such a job could not use; ties by best fit.
 * - Anti-starvation: reservation with backfill (EASY/conservative backfill). When a job cannot be placed for lack
 *   of capacity, the planner reserves for it the matching node that will have enough GPUs free soonest (from the
 *   estimated ends of the work on it; work without an estimate is assumed to run `defaultEstimateMs`, and
 *   instances forever). A reserved node takes no new work except backfill: a job whose estimated_duration_min
 *   ends before the reservation's start. So a high-priority 8-GPU job cannot be starved by a stream of 1-GPU
 *   jobs: its node drains, and it is first in line when it has. Up to `maxReservations` jobs hold a reservation
 *   per pass (the earliest in queue order), which bounds how much capacity waits idle for large jobs.
 * Reservations are recomputed each pass from the state; nothing about them is stored.
 */
import { modelMatches } from "../gpu-model.js";

export interface PlanGpu {
  id: number;
  index: number;
}

/** One GPU model on one node: the unit a job is placed in. */
export interface PlanPool {
  nodeId: number;
  clusterId: number;
  model: string;
  /** Healthy GPUs of this model on an active node, free or not. */
  total: number;
  free: PlanGpu[];
  /** When the work holding the other GPUs is expected to end (ms since epoch; Infinity = unknown end). */
  releases: { end: number; gpus: number; jobId?: number }[];
}

export interface PlanJob {
  id: number;
  /** 1 = highest; absent = the API's default, 5. */
  priority?: number;
  /** Submit time, ms since epoch; absent = now. */
  submittedAt?: number;
  clusterId: number;
  tenantId: number | null;
  gpuCount: number;
  gpuType: string | null;
  /** Estimated run time in ms, or null when the submitter gave none. */
  estimateMs: number | null;
}

export interface PlanOptions {
  now: number;
  maxReservations?: number;
  /** How long work without an estimate is assumed to run, for reservation starts. */
  defaultEstimateMs?: number;
  /** "typeAware" (the default, see Placement above) or plain "bestFit" over all matching pools (to measure it). */
  placement?: "typeAware" | "bestFit";
  /** Experimental (replay only): a reservation only for a start within this many ms of now (Slurm's bf_window). */
  reservationWindowMs?: number;
  /**
   * Experimental (replay only): which node a reservation takes. "earliest" (default): the one with room soonest;
   * "typeAware": an untyped job's reservation avoids models typed jobs wait for, then earliest; "leastIdle": the
   * fewest GPU-hours held idle until the start (fewest jobs displaced), ties by start.
   */
  reserveChoice?: "earliest" | "typeAware" | "leastIdle" | "typeAwareLeastIdle";
  /** Experimental: reserveChoice ranks only the pools whose start is within this many ms of the earliest. */
  reserveSlackMs?: number;
  /**
   * FGD's fragmentation score for the placement of jobs of more than one GPU ("multi", the default with
   * "typeAware" placement), of all jobs ("all", measured, not used), or for none ("off": the earlier rule).
   */
  fgd?: "multi" | "all" | "off";
}

export interface Placement {
  job: PlanJob;
  pool: PlanPool;
  gpus: PlanGpu[];
  backfill: boolean;
}

export interface Reservation {
  jobId: number;
  pool: PlanPool;
  start: number;
}

export interface PlanResult {
  placements: Placement[];
  /** Jobs left waiting, with the reason shown to users. */
  blocked: Map<number, string>;
  reservations: Reservation[];
}

/**
 * The reasons the scheduler itself writes, each "<code>: <sentence>" (Slurm's `Reason`): over quota; no node has the
 * GPU type (or that many of it); GPUs that fit are reserved for a job ahead; enough GPUs are free but on different
 * nodes (fragmentation); jobs ahead in the order took the GPUs this pass (priority); nothing free that fits
 * (capacity); a prepaid tenant without credit; an image no node of the cluster has or can pull (scheduler.ts). A job blocked by anything else (an operator hold) is not scheduled.
 */
export const blockPrefixes = [
  "quota:",
  "no matching GPU type:",
  "reserved:",
  "fragmentation:",
  "priority:",
  "no capacity:",
  "credits:",
  "image:",
] as const;

/** Seconds of waiting one priority level is worth (below priority 1, which always goes first). */
export const priorityStepS = 60;
/** Share of its estimated run time a job is placed behind its submit time (shortest-job first, with aging). */
export const estimateWeight = 0.5;
/**
 * The starvation guard of a 1-GPU job: the queue's mean wait, but at least `guardFloorMs` and at most `guardMs`;
 * a job of n GPUs gets n^guardSizeExp times that: its reservation drains a node for it (from the jobs behind it in
 * the order), and guarding it sooner drains nodes sooner, which the replay's p99 pays for (docs/scheduler.md).
 */
export const guardFloorMs = 10 * 60_000;
export const guardMs = 25 * 60_000;
export const guardSizeExp = 1;
/** A job is guarded too once it has waited this many times its estimate, and at least `guardMinMs`. */
export const guardEstimateFactor = 2;
export const guardMinMs = 5 * 60_000;
/** Among guarded jobs, the estimate moves a job back by at most this. */
export const guardedEstimateCapMs = 2 * 3_600_000;

/** queueOrder's weights, to measure others in the replay. */
export interface QueueWeights {
  stepS?: number;
  estimate?: number;
  defaultEstimateMs?: number;
  /** The most the absolute guard of a 1-GPU job can be (Infinity: no absolute guard). */
  guardMs?: number;
  /** The least it can be (set it to guardMs for a fixed guard that ignores the queue's mean wait). */
  guardFloorMs?: number;
  /** Starvation guard by estimate (Infinity: none). */
  guardEstimateFactor?: number;
  /** The guard by estimate applies only after this wait (ms). */
  guardMinMs?: number;
  /** The absolute guard scaled by the job's size: × gpuCount^guardSizeExp (0: the same for all sizes). */
  guardSizeExp?: number;
  /** Among guarded jobs, the most the estimate term may move a job back (Infinity: no cap). */
  guardedEstimateCapMs?: number;
}

/**
 * The queue in the order the planner serves it (see the policy above): priority 1 first, then the jobs the
 * starvation guard holds, then the rest; within each group by submit time + estimateWeight × estimate (a job
 * without estimate counts `defaultEstimateMs`; among guarded jobs at most `guardedEstimateCapMs`) + priorityStepS
 * × priority; ties by id.
 */
export function queueOrder<T extends PlanJob>(jobs: T[], now: number, weights: QueueWeights = {}): T[] {
  const {
    stepS = priorityStepS,
    estimate = estimateWeight,
    defaultEstimateMs = 3_600_000,
    guardMs: guardMax = guardMs,
    guardFloorMs: guardFloor = guardFloorMs,
    guardEstimateFactor: factor = guardEstimateFactor,
    guardMinMs: floor = guardMinMs,
    guardSizeExp: sizeExp = guardSizeExp,
    guardedEstimateCapMs: guardedCap = guardedEstimateCapMs,
  } = weights;
  const waited = (j: PlanJob) => now - (j.submittedAt ?? now);
  // The guard follows the load: the queue's mean wait, within [floor, max].
  const meanWait = jobs.length ? jobs.reduce((sum, j) => sum + waited(j), 0) / jobs.length : 0;
  const guard =
    guardMax === Number.POSITIVE_INFINITY
      ? guardMax
      : Math.min(guardMax, Math.max(Math.min(guardFloor, guardMax), meanWait));
  const key = (j: PlanJob, cap: number) =>
    (j.submittedAt ?? now) +
    Math.min(cap, estimate * (j.estimateMs ?? defaultEstimateMs)) +
    stepS * 1000 * (j.priority ?? 5);
  const group = (j: PlanJob) => {
    if ((j.priority ?? 5) <= 1) return 0;
    const w = waited(j);
    const bound = sizeExp ? guard * j.gpuCount ** sizeExp : guard;
    const guarded = w >= bound || (w >= floor && w >= factor * (j.estimateMs ?? defaultEstimateMs));
    return guarded ? 1 : 2;
  };
  const keyed = jobs.map((job) => {
    const top = group(job);
    return { job, top, key: key(job, top === 1 ? guardedCap : Number.POSITIVE_INFINITY) };
  });
  keyed.sort((a, b) => a.top - b.top || a.key - b.key || a.job.id - b.job.id);
  return keyed.map((k) => k.job);
}

/**
 * Plans one pass. `jobs` must already be in queue order (queueOrder); `quotas` maps tenant → {limit, used}
 * and is updated as jobs are placed; pools are mutated (free GPUs taken, releases added) so that a caller keeping
 * them (the replay) sees the new state.
 */
export function planPass(
  pools: PlanPool[],
  jobs: PlanJob[],
  quotas: Map<number, { limit: number; used: number }>,
  options: PlanOptions,
): PlanResult {
  const now = options.now;
  const maxReservations = options.maxReservations ?? 8;
  const defaultEstimateMs = options.defaultEstimateMs ?? 3_600_000;
  const result: PlanResult = { placements: [], blocked: new Map(), reservations: [] };

  // Pools grouped by cluster, and within a cluster by model, with best-fit buckets by free count.
  const byCluster = new Map<number, ClusterIndex>();
  for (const pool of pools) {
    let cluster = byCluster.get(pool.clusterId);
    if (!cluster) {
      cluster = { models: new Map(), matches: new Map(), failedAt: new Map(), maxTotal: 0 };
      byCluster.set(pool.clusterId, cluster);
    }
    let model = cluster.models.get(pool.model);
    if (!model) {
      model = { name: pool.model, buckets: [], maxTotal: 0 };
      cluster.models.set(pool.model, model);
    }
    model.maxTotal = Math.max(model.maxTotal, pool.total);
    cluster.maxTotal = Math.max(cluster.maxTotal, pool.total);
    bucketAdd(model, pool);
  }
  const reserved = new Set<PlanPool>();
  // The first job placed on each model this pass: a job that then finds nothing waits behind it (priority).
  const firstPlaced = new Map<ModelIndex, number>();
  const typeAware = (options.placement ?? "typeAware") === "typeAware";
  const fgd = typeAware ? (options.fgd ?? "multi") : "off";
  // Models the typed jobs of this queue accept: work that could run elsewhere keeps off them.
  const demanded = new Set<ModelIndex>();
  if (typeAware) {
    for (const job of jobs) {
      const cluster = job.gpuType ? byCluster.get(job.clusterId) : undefined;
      if (cluster) for (const m of matchingModels(cluster, job.gpuType)) demanded.add(m);
    }
  }

  // FGD's workload: the queue's jobs by size and type, weighted by count.
  const workload: WorkloadClass[] = [];
  if (fgd !== "off") {
    const classes = new Map<string, WorkloadClass>();
    for (const job of jobs) {
      const key = `${job.gpuCount}|${job.gpuType ?? ""}`;
      const c = classes.get(key);
      if (c) c.weight++;
      else classes.set(key, { need: job.gpuCount, gpuType: job.gpuType, weight: 1, matches: new Map() });
    }
    for (const c of classes.values()) {
      c.weight /= jobs.length;
      workload.push(c);
    }
  }

  for (const job of jobs) {
    const need = job.gpuCount;
    const quota = job.tenantId === null ? undefined : quotas.get(job.tenantId);
    if (quota && quota.used + need > quota.limit) {
      result.blocked.set(
        job.id,
        `quota: tenant ${job.tenantId} uses ${quota.used} of ${quota.limit} GPUs; this job needs ${need} more`,
      );
      continue;
    }
    const cluster = byCluster.get(job.clusterId);
    const models = cluster ? matchingModels(cluster, job.gpuType) : [];
    if (!models.length || Math.max(...models.map((m) => m.maxTotal)) < need) {
      const what = job.gpuType ? `'${job.gpuType}' GPUs` : "GPUs";
      result.blocked.set(
        job.id,
        models.length
          ? `no matching GPU type: no node in cluster ${job.clusterId} has ${need} ${what}`
          : `no matching GPU type: cluster ${job.clusterId} has no ${what}`,
      );
      continue;
    }
    const typeKey = job.gpuType?.toUpperCase() ?? "";
    // Within one pass a size that failed for a type fails again for anything as large: skip the search.
    const failedAt = cluster!.failedAt.get(typeKey) ?? Number.POSITIVE_INFINITY;
    let pool: PlanPool | undefined;
    if (need < failedAt) {
      pool =
        fgd !== "off" && (need > 1 || fgd === "all")
          ? fgdFit(models, need, cluster!.maxTotal, workload)
          : typeAware && models.length > 1
            ? typeAwareFit(models, need, cluster!.maxTotal, job.gpuType ? undefined : demanded)
            : bestFit(models, need);
    }
    let backfill = false;
    if (!pool) {
      if (need < failedAt) cluster!.failedAt.set(typeKey, need);
      const end = job.estimateMs === null ? Number.POSITIVE_INFINITY : now + job.estimateMs;
      for (const r of result.reservations) {
        if (r.pool.clusterId === job.clusterId && r.pool.free.length >= need && end <= r.start) {
          if (models.some((m) => m.name === r.pool.model)) {
            pool = r.pool;
            backfill = true;
            break;
          }
        }
      }
    }
    if (!pool) {
      result.blocked.set(job.id, waitingReason(job, models, result.reservations, firstPlaced));
      if (result.reservations.length < maxReservations) {
        const choice = earliestPool(
          models,
          need,
          now,
          defaultEstimateMs,
          reserved,
          options.reserveChoice ?? "earliest",
          job.gpuType ? undefined : demanded,
          options.reserveSlackMs,
        );
        if (choice && choice.start <= now + (options.reservationWindowMs ?? Number.POSITIVE_INFINITY)) {
          reserved.add(choice.pool);
          bucketRemove(cluster!.models.get(choice.pool.model)!, choice.pool);
          result.reservations.push({ jobId: job.id, pool: choice.pool, start: choice.start });
        }
      }
      continue;
    }
    const model = cluster!.models.get(pool.model)!;
    if (!backfill) bucketRemove(model, pool);
    const gpus = pool.free.splice(0, need);
    if (!backfill) bucketAdd(model, pool);
    if (!firstPlaced.has(model)) firstPlaced.set(model, job.id);
    pool.releases.push({
      end: job.estimateMs === null ? now + defaultEstimateMs : now + job.estimateMs,
      gpus: need,
      jobId: job.id,
    });
    if (quota) quota.used += need;
    result.placements.push({ job, pool, gpus, backfill });
  }
  return result;
}

/**
 * Why a job that fits its cluster's nodes found no GPUs this pass, most specific first: GPUs that would fit are held
 * for a job ahead (reserved); enough matching GPUs are free but no node has `need` of them (fragmentation); jobs
 * ahead in the order took what was free (priority); else there is simply not enough free (capacity). The sentences
 * leave out counts that move with every GPU freed, so a waiting job's row is rewritten only when its reason changes.
 */
function waitingReason(
  job: PlanJob,
  models: ModelIndex[],
  reservations: Reservation[],
  firstPlaced: Map<ModelIndex, number>,
): string {
  const need = job.gpuCount;
  const what = job.gpuType ?? "GPU";
  const names = new Set(models.map((m) => m.name));
  const holding = reservations.find(
    (r) =>
      r.jobId !== job.id && r.pool.clusterId === job.clusterId && names.has(r.pool.model) && r.pool.free.length >= need,
  );
  if (holding) {
    return `reserved: the ${what}s that would fit are held for job ${holding.jobId}, ahead in the queue; this job runs after it, or before if its estimate ends in time`;
  }
  let free = 0;
  for (const model of models) free += freeGpus(model);
  if (free >= need) {
    return `fragmentation: at least ${need} ${what}s are free in cluster ${job.clusterId}, but no node has ${need} of them free`;
  }
  const ahead = models.map((m) => firstPlaced.get(m)).find((id) => id !== undefined);
  if (ahead !== undefined) {
    return `priority: behind job ${ahead} and others ahead in the queue, which took the free ${what}s this pass`;
  }
  return `no capacity: waiting for ${need} free ${what}s on one node`;
}

interface ModelIndex {
  name: string;
  /** buckets[n] = pools with exactly n free GPUs (not reserved). */
  buckets: Set<PlanPool>[];
  maxTotal: number;
}

interface ClusterIndex {
  models: Map<string, ModelIndex>;
  matches: Map<string, ModelIndex[]>;
  failedAt: Map<string, number>;
  /** The largest pool (GPUs of one model on one node) in the cluster. */
  maxTotal: number;
}

function bucketAdd(model: ModelIndex, pool: PlanPool) {
  const n = pool.free.length;
  while (model.buckets.length <= n) model.buckets.push(new Set());
  model.buckets[n].add(pool);
}

function bucketRemove(model: ModelIndex, pool: PlanPool) {
  model.buckets[pool.free.length]?.delete(pool);
}

function matchingModels(cluster: ClusterIndex, gpuType: string | null): ModelIndex[] {
  const key = gpuType?.toUpperCase() ?? "";
  let list = cluster.matches.get(key);
  if (!list) {
    list = [...cluster.models.values()].filter((m) => modelMatches(gpuType, m.name));
    cluster.matches.set(key, list);
  }
  return list;
}

/** The matching pool with the fewest free GPUs that still has `need` (ties: the first indexed). */
function bestFit(models: ModelIndex[], need: number): PlanPool | undefined {
  let best: PlanPool | undefined;
  for (const model of models) {
    const limit = best ? best.free.length : model.buckets.length;
    for (let n = need; n < Math.min(limit, model.buckets.length); n++) {
      const first = model.buckets[n].values().next();
      if (!first.done) {
        best = first.value;
        break;
      }
    }
  }
  return best;
}

/** Free GPUs of a model in pools that are not reserved. */
function freeGpus(model: ModelIndex): number {
  let n = 0;
  for (let i = 1; i < model.buckets.length; i++) n += i * model.buckets[i].size;
  return n;
}

/**
 * Placement for a job that accepts several models: first the models no typed job in the queue accepts, then by free
 * GPUs (most first); best fit within a model; an empty pool of the cluster's largest size is taken only when
 * nothing else fits. `demanded` is undefined for a typed job (it competes for its models on equal terms).
 */
function typeAwareFit(
  models: ModelIndex[],
  need: number,
  largest: number,
  demanded: Set<ModelIndex> | undefined,
): PlanPool | undefined {
  const ranked = models
    .map((model) => ({ model, demanded: demanded?.has(model) ? 1 : 0, free: freeGpus(model) }))
    .sort((a, b) => a.demanded - b.demanded || b.free - a.free);
  for (const keepLargest of [true, false]) {
    for (const { model } of ranked) {
      const stop = keepLargest ? Math.min(largest, model.buckets.length) : model.buckets.length;
      for (let n = need; n < stop; n++) {
        const first = model.buckets[n].values().next();
        if (!first.done) return first.value;
      }
    }
  }
  return undefined;
}

/**
 * The unreserved matching pool where `need` GPUs are expected free soonest, and when. The experimental choices
 * ("typeAware": models no typed job waits for first; "leastIdle": fewest GPU-ms held idle until the start) rank
 * the pools whose start is within `slackMs` of the earliest; ties by start, then by more free GPUs.
 */
function earliestPool(
  models: ModelIndex[],
  need: number,
  now: number,
  defaultEstimateMs: number,
  reserved: Set<PlanPool>,
  choice: "earliest" | "typeAware" | "leastIdle" | "typeAwareLeastIdle" = "earliest",
  demanded?: Set<ModelIndex>,
  slackMs = Number.POSITIVE_INFINITY,
): { pool: PlanPool; start: number } | undefined {
  const candidates: { pool: PlanPool; start: number; rank: number; idle: number }[] = [];
  let earliest = Number.POSITIVE_INFINITY;
  for (const model of models) {
    const rank = choice.startsWith("typeAware") && demanded?.has(model) ? 1 : 0;
    for (let n = model.buckets.length - 1; n >= 0; n--) {
      for (const pool of model.buckets[n]) {
        if (pool.total < need || reserved.has(pool)) continue;
        const { start, idle } = freeAt(pool, need, now, defaultEstimateMs);
        earliest = Math.min(earliest, start);
        candidates.push({ pool, start, rank, idle: choice.endsWith("eastIdle") ? idle : 0 });
      }
    }
  }
  let best: (typeof candidates)[number] | undefined;
  for (const c of candidates) {
    if (choice !== "earliest" && c.start > earliest + slackMs) continue;
    if (
      !best ||
      c.rank < best.rank ||
      (c.rank === best.rank &&
        (c.idle < best.idle ||
          (c.idle === best.idle &&
            (c.start < best.start || (c.start === best.start && c.pool.free.length > best.pool.free.length)))))
    ) {
      best = c;
    }
  }
  return best && { pool: best.pool, start: best.start };
}

/** When `need` GPUs of the pool are expected free, and the GPU-ms its free GPUs stand idle until then. */
function freeAt(pool: PlanPool, need: number, now: number, defaultEstimateMs: number): { start: number; idle: number } {
  let free = pool.free.length;
  if (free >= need) return { start: now, idle: 0 };
  // Overdue work is expected to end any moment: count it as ending shortly, not in the past.
  const ends = pool.releases
    .map((r) => ({ end: Math.max(r.end, now + 60_000), gpus: r.gpus }))
    .sort((a, b) => a.end - b.end);
  let idle = 0;
  let t = now;
  for (const r of ends) {
    idle += free * (r.end - t);
    t = r.end;
    free += r.gpus;
    if (free >= need) return { start: r.end, idle };
  }
  const start = now + defaultEstimateMs * 1000; // held by work with no end (instances): last resort
  return { start, idle: idle + free * (start - t) };
}

interface WorkloadClass {
  need: number;
  gpuType: string | null;
  /** Share of the queue's jobs in this class. */
  weight: number;
  matches: Map<string, boolean>;
}

/** FGD's fragmentation of a pool with `free` GPUs: the free GPUs each workload class could not use, weighted. */
function fragmentation(model: string, free: number, workload: WorkloadClass[]): number {
  let f = 0;
  for (const c of workload) {
    let m = c.matches.get(model);
    if (m === undefined) {
      m = modelMatches(c.gpuType, model);
      c.matches.set(model, m);
    }
    if (!m || free < c.need) f += c.weight * free;
  }
  return f;
}

/**
 * FGD (Weng et al., ATC 2023): the pool where placing the job grows the expected fragmentation least; ties by
 * best fit. As in typeAwareFit, an empty pool of the cluster's largest size only when nothing else fits: the
 * workload here is the queue, which does not show the large jobs still to come.
 */
function fgdFit(models: ModelIndex[], need: number, largest: number, workload: WorkloadClass[]): PlanPool | undefined {
  for (const keepLargest of [true, false]) {
    const pool = fgdSearch(models, need, keepLargest ? largest : Number.POSITIVE_INFINITY, workload);
    if (pool) return pool;
  }
  return undefined;
}

function fgdSearch(models: ModelIndex[], need: number, below: number, workload: WorkloadClass[]) {
  let best: { pool: PlanPool; delta: number } | undefined;
  for (const model of models) {
    for (let n = need; n < Math.min(below, model.buckets.length); n++) {
      const first = model.buckets[n].values().next();
      if (first.done) continue;
      // Pools of one model with the same free count score alike: the first stands for all.
      const delta = fragmentation(model.name, n - need, workload) - fragmentation(model.name, n, workload);
      if (!best || delta < best.delta || (delta === best.delta && n < best.pool.free.length)) {
        best = { pool: first.value, delta };
      }
    }
  }
  return best?.pool;
}
