/**
 * Replays a trace in simulated time. Each arrival and each completion triggers a scheduling pass, as a submit or a
 * release kicks the scheduler in production. Policies:
 * - "gpuplane": the production planner (plan.ts queueOrder + planPass): priority and age with shortest-job first,
 *   best fit on one node, reservations with backfill; the tasks' estimated durations are their trace run times (an
 *   honest submitter's estimate; greedy and FIFO do not use them).
 * - "fifo": the baseline the issue names, plain FIFO first-fit: strict first come, first served. Tasks start in
 *   arrival order, each on the first node (trace order) with enough free GPUs; the head of the queue waits until
 *   it fits and nothing overtakes it (head-of-line blocking is part of FIFO).
 * - "greedy": FIFO order with first fit, but a task that does not fit is skipped and later ones may start ahead of
 *   it (greedy list scheduling; no priority, no reservation). Shown beside plain FIFO so the comparison is
 *   transparent: it is the stronger baseline on mean delay, and it can starve large tasks.
 * A task that could not fit even on an empty cluster (no node with enough matching GPUs) is left out of every
 * policy's queue and counted as `unplaceable`, so it neither blocks FIFO forever nor counts as waiting.
 */
import { type PlanJob, type PlanOptions, type PlanPool, planPass, type QueueWeights, queueOrder } from "../plan.js";
import type { Trace, TraceTask } from "./trace.js";

export type Policy = "fifo" | "greedy" | "gpuplane";

export const policies: Policy[] = ["fifo", "greedy", "gpuplane"];

/** Trace qos names by priority (trace.ts maps qos → priority). */
export const priorityNames: Record<number, string> = { 1: "Guaranteed", 2: "LS", 3: "Burstable", 4: "BE" };

export interface ReplayOptions {
  /** Arrival times are divided by this factor (1 = as recorded); run times are kept. */
  arrivalScale?: number;
  maxReservations?: number;
  /** gpuplane's placement (plan.ts PlanOptions.placement; default the production one, "typeAware"). */
  placement?: "typeAware" | "bestFit";
  /** Other queue-order weights for gpuplane than the production ones (to measure them). */
  weights?: QueueWeights;
  /** Other planPass options for gpuplane (the experimental ones), to measure them. */
  plan?: Omit<PlanOptions, "now">;
  /** Called as each task starts, with its queueing delay in seconds and the GPU model it got (to study the tail). */
  onStart?: (task: TraceTask, delayS: number, model: string) => void;
}

export interface ReplayResult {
  policy: Policy;
  tasks: number;
  placed: number;
  /** Tasks no node could ever hold (left out of the queue). */
  unplaceable: number;
  queueing_delay_s: { mean: number; p50: number; p99: number; max: number; waited: number };
  /** Queueing delay per priority class (1 = highest; qos name beside it). */
  delay_by_priority: { priority: number; qos: string; tasks: number; mean: number; p50: number; p99: number }[];
  gpu_allocation: {
    mean_pct: number;
    peak_pct: number;
    /** Mean allocation in 20 equal slices of the simulated span. */
    series_pct: number[];
  };
  idle_while_waiting: {
    /** Time-weighted mean, while at least one task waited, of the free GPUs a waiting task could use (usableIdleGpus). */
    mean_idle_gpus: number;
    idle_gpu_hours: number;
    /** Share of the span during which tasks waited. */
    waiting_time_pct: number;
  };
  simulated_span_h: number;
  wall_ms: number;
}

interface Running {
  end: number;
  task: TraceTask;
  pool: PlanPool;
  gpus: PlanPool["free"];
}

export function replay(trace: Trace, policy: Policy, options: ReplayOptions = {}): ReplayResult {
  const started = performance.now();
  const scale = options.arrivalScale ?? 1;
  const pools: PlanPool[] = trace.nodes.map((n, i) => ({
    nodeId: i + 1,
    clusterId: 1,
    model: n.model,
    total: n.gpus,
    free: Array.from({ length: n.gpus }, (_, g) => ({ id: (i + 1) * 16 + g, index: g })),
    releases: [],
  }));
  const totalGpus = pools.reduce((s, p) => s + p.total, 0);
  const fits = (t: TraceTask) =>
    pools.some((p) => p.total >= t.gpus && (!t.models.length || t.models.includes(p.model)));
  const tasks = trace.tasks.filter(fits).map((t) => ({ ...t, arrival: t.arrival / scale }));
  const unplaceable = trace.tasks.length - tasks.length;
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const heap = new MinHeap<Running>((a, b) => a.end - b.end);
  const waiting: TraceTask[] = [];
  const delays: number[] = [];
  const delayPriority: number[] = [];
  let next = 0;
  let allocated = 0;
  let now = tasks.length ? tasks[0].arrival : 0;
  const start = now;
  const samples: { t: number; allocated: number; waiting: number; usable: number }[] = [];

  const place = (task: TraceTask, pool: PlanPool, gpus: PlanPool["free"]) => {
    delays.push(now - task.arrival);
    options.onStart?.(task, now - task.arrival, pool.model);
    delayPriority.push(task.priority);
    allocated += gpus.length;
    heap.push({ end: now + task.duration, task, pool, gpus });
  };

  while (next < tasks.length || heap.size) {
    const nextArrival = next < tasks.length ? tasks[next].arrival : Number.POSITIVE_INFINITY;
    const nextEnd = heap.size ? heap.peek()!.end : Number.POSITIVE_INFINITY;
    now = Math.min(nextArrival, nextEnd);
    while (heap.size && heap.peek()!.end <= now) {
      const done = heap.pop()!;
      done.pool.free.push(...done.gpus);
      done.pool.free.sort((a, b) => a.index - b.index);
      const r = done.pool.releases.findIndex((x) => x.jobId === done.task.id);
      if (r >= 0) done.pool.releases.splice(r, 1);
      allocated -= done.gpus.length;
    }
    while (next < tasks.length && tasks[next].arrival <= now) waiting.push(tasks[next++]);
    if (waiting.length) {
      const placedIds =
        policy === "gpuplane"
          ? gpuplanePass(pools, waiting, now, options)
          : firstFitPass(pools, waiting, place, policy === "greedy");
      if (policy === "gpuplane") {
        for (const p of placedIds as { id: number; pool: PlanPool; gpus: PlanPool["free"] }[]) {
          place(byId.get(p.id)!, p.pool, p.gpus);
        }
      }
      const placed = new Set((placedIds as { id: number }[]).map((p) => p.id));
      if (placed.size) removeWhere(waiting, (t) => placed.has(t.id));
    }
    samples.push({ t: now, allocated, waiting: waiting.length, usable: usableIdleGpus(pools, waiting) });
  }

  // Time-weighted metrics from the step function of samples.
  const end = now;
  const span = Math.max(1, end - start);
  let allocArea = 0;
  let idleWaitingArea = 0;
  let waitingTime = 0;
  let peak = 0;
  const slices = new Array(20).fill(0);
  for (let i = 0; i < samples.length - 1; i++) {
    const s = samples[i];
    const dt = samples[i + 1].t - s.t;
    if (dt <= 0) continue;
    allocArea += s.allocated * dt;
    peak = Math.max(peak, s.allocated);
    if (s.waiting > 0) {
      idleWaitingArea += s.usable * dt;
      waitingTime += dt;
    }
    // spread over slices
    let t = s.t;
    const stop = samples[i + 1].t;
    while (t < stop) {
      const k = Math.min(19, Math.floor(((t - start) / span) * 20));
      const sliceEnd = start + ((k + 1) * span) / 20;
      const piece = Math.min(stop, sliceEnd) - t;
      slices[k] += s.allocated * piece;
      t += piece > 0 ? piece : stop - t;
    }
  }
  const sorted = [...delays].sort((a, b) => a - b);
  const round = (x: number, d = 1) => Number(x.toFixed(d));
  const pct = (q: number) => percentile(sorted, q);
  const classes = [...new Set(delayPriority)].sort((a, b) => a - b);
  const delayByPriority = classes.map((priority) => {
    const ds = delays.filter((_, i) => delayPriority[i] === priority).sort((a, b) => a - b);
    return {
      priority,
      qos: priorityNames[priority] ?? String(priority),
      tasks: ds.length,
      mean: round(ds.reduce((s, d) => s + d, 0) / Math.max(1, ds.length)),
      p50: round(percentile(ds, 0.5)),
      p99: round(percentile(ds, 0.99)),
    };
  });
  return {
    policy,
    tasks: tasks.length,
    placed: delays.length,
    unplaceable,
    queueing_delay_s: {
      mean: round(delays.reduce((s, d) => s + d, 0) / Math.max(1, delays.length)),
      p50: round(pct(0.5)),
      p99: round(pct(0.99)),
      max: round(sorted[sorted.length - 1] ?? 0),
      waited: delays.filter((d) => d > 0).length,
    },
    delay_by_priority: delayByPriority,
    gpu_allocation: {
      mean_pct: round((100 * allocArea) / (span * totalGpus), 2),
      peak_pct: round((100 * peak) / totalGpus, 2),
      series_pct: slices.map((a) => round((100 * a) / ((span / 20) * totalGpus), 2)),
    },
    idle_while_waiting: {
      mean_idle_gpus: round(waitingTime ? idleWaitingArea / waitingTime : 0),
      idle_gpu_hours: round(idleWaitingArea / 3600),
      waiting_time_pct: round((100 * waitingTime) / span, 2),
    },
    simulated_span_h: round(span / 3600),
    wall_ms: Math.round(performance.now() - started),
  };
}

/**
 * Free GPUs that could have run a waiting task right now: on a node whose free GPUs of a model a waiting task may
 * use are at least as many as that task needs. Each GPU counts once, however many tasks could have used it; GPUs of
 * a model no waiting task accepts, or too few on their node for any, are not idle capacity but a poor fit.
 */
export function usableIdleGpus(pools: PlanPool[], waiting: TraceTask[]): number {
  if (!waiting.length) return 0;
  let anyModel = Number.POSITIVE_INFINITY; // the smallest untyped task
  const byModel = new Map<string, number>(); // the smallest task that accepts this model
  for (const t of waiting) {
    if (!t.models.length) anyModel = Math.min(anyModel, t.gpus);
    else for (const m of t.models) byModel.set(m, Math.min(byModel.get(m) ?? Number.POSITIVE_INFINITY, t.gpus));
  }
  let usable = 0;
  for (const p of pools) {
    const free = p.free.length;
    if (free && free >= Math.min(anyModel, byModel.get(p.model) ?? Number.POSITIVE_INFINITY)) usable += free;
  }
  return usable;
}

/** gpuplane: the production planner over the whole waiting queue, in its queue order. */
function gpuplanePass(pools: PlanPool[], waiting: TraceTask[], now: number, options: ReplayOptions) {
  // A pass over a full fleet places nothing (its reservations live only within the pass): skip the planning.
  if (!pools.some((p) => p.free.length)) return [];
  // The planner works in ms; simulated seconds are scaled on the way in.
  const jobs: PlanJob[] = waiting.map((t) => ({
    id: t.id,
    priority: t.priority,
    submittedAt: t.arrival * 1000,
    clusterId: 1,
    tenantId: null,
    gpuCount: t.gpus,
    gpuType: t.models.length ? t.models.join("|") : null,
    estimateMs: t.duration * 1000,
  }));
  const plan = planPass(pools, queueOrder(jobs, now * 1000, options.weights), new Map(), {
    maxReservations: options.maxReservations,
    placement: options.placement,
    ...options.plan,
    now: now * 1000,
  });
  return plan.placements.map((p) => ({ id: p.job.id, pool: p.pool, gpus: p.gpus }));
}

/**
 * First fit in arrival order: each task on the first node (trace order) with enough free matching GPUs.
 * Plain FIFO (`overtake` false) stops at the first task that does not fit: it is the head, and it waits.
 * Greedy (`overtake` true) skips it and tries the tasks behind it.
 */
function firstFitPass(
  pools: PlanPool[],
  waiting: TraceTask[],
  place: (task: TraceTask, pool: PlanPool, gpus: PlanPool["free"]) => void,
  overtake: boolean,
) {
  const placed: { id: number }[] = [];
  let failedAt = Number.POSITIVE_INFINITY; // a size that found no node: anything as large finds none either
  for (const task of waiting) {
    const pool =
      task.gpus >= failedAt
        ? undefined
        : pools.find((p) => p.free.length >= task.gpus && (!task.models.length || task.models.includes(p.model)));
    if (!pool) {
      if (!overtake) break;
      if (!task.models.length) failedAt = task.gpus;
      continue;
    }
    place(task, pool, pool.free.splice(0, task.gpus));
    placed.push({ id: task.id });
  }
  return placed;
}

function percentile(sorted: number[], q: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : 0;
}

function removeWhere<T>(list: T[], drop: (x: T) => boolean) {
  let w = 0;
  for (const x of list) if (!drop(x)) list[w++] = x;
  list.length = w;
}

class MinHeap<T> {
  private items: T[] = [];
  constructor(private less: (a: T, b: T) => number) {}
  get size() {
    return this.items.length;
  }
  peek(): T | undefined {
    return this.items[0];
  }
  push(item: T) {
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.less(a[i], a[p]) >= 0) break;
      [a[i], a[p]] = [a[p], a[i]];
      i = p;
    }
  }
  pop(): T | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop()!;
    if (a.length) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(a[l], a[m]) < 0) m = l;
        if (r < a.length && this.less(a[r], a[m]) < 0) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
}
