/**
 * The fill experiment, for task lists without times (the openb `multigpu` lists): place the tasks in list order,
 * each on one node (its whole GPUs, CPU and memory), until the first task that no longer fits anywhere. Then
 * report how much of the fleet's GPUs are allocated and how many are stranded: free, but on nodes where no
 * remaining task fits (not enough free GPUs, CPU or memory there, or a model no remaining task accepts). This is the
 * shape of the FGD paper's (Weng et al., USENIX ATC 2023) "unallocated GPU" measure, with one difference: gpuplane
 * gives every task whole GPUs (a fractional task takes one GPU of its own), where the paper shares GPUs.
 *
 * Policies, in the same run on the same list:
 * - gpuplane: the production planner (plan.ts planPass) choosing among the nodes with CPU and memory for the task;
 * - first-fit: the first node in list order; best-fit: the node with the fewest free GPUs that still fits;
 * - random-fit: a node drawn at random among those that fit (seeded, so a run can be repeated).
 */
import { type PlanPool, planPass } from "../plan.js";
import type { Trace, TraceNode, TraceTask } from "./trace.js";

export type FillPolicy = "gpuplane" | "first-fit" | "best-fit" | "random-fit";
export const fillPolicies: FillPolicy[] = ["gpuplane", "first-fit", "best-fit", "random-fit"];

export interface FillResult {
  policy: FillPolicy;
  /** Tasks placed before the first that did not fit. */
  placed: number;
  /** 1-based position in the list of the first task that did not fit; null when every task fit. */
  stopped_at: number | null;
  allocated_gpus: number;
  allocated_pct: number;
  /** Free GPUs on nodes where no remaining task fits. */
  stranded_gpus: number;
  stranded_pct: number;
  wall_ms: number;
}

interface NodeState {
  node: TraceNode;
  pool: PlanPool;
  cpu: number;
  memory: number;
}

const accepts = (t: TraceTask, model: string) => !t.models.length || t.models.includes(model);
const fitsOn = (t: TraceTask, n: NodeState) =>
  n.pool.free.length >= t.gpus && n.cpu >= t.cpuMilli && n.memory >= t.memoryMib && accepts(t, n.node.model);

export function fill(trace: Trace, policy: FillPolicy, seed = 1): FillResult {
  const started = performance.now();
  const nodes: NodeState[] = trace.nodes.map((node, i) => ({
    node,
    cpu: node.cpuMilli,
    memory: node.memoryMib,
    pool: {
      nodeId: i + 1,
      clusterId: 1,
      model: node.model,
      total: node.gpus,
      free: Array.from({ length: node.gpus }, (_, g) => ({ id: (i + 1) * 16 + g, index: g })),
      releases: [],
    },
  }));
  const random = mulberry32(seed);
  const choose = (t: TraceTask): NodeState | undefined => {
    if (policy === "first-fit") return nodes.find((n) => fitsOn(t, n));
    const fitting = nodes.filter((n) => fitsOn(t, n));
    if (!fitting.length) return undefined;
    if (policy === "random-fit") return fitting[Math.floor(random() * fitting.length)];
    if (policy === "best-fit") {
      return fitting.reduce((best, n) => (n.pool.free.length < best.pool.free.length ? n : best));
    }
    // gpuplane: the planner sees only the nodes with CPU and memory for the task (it places GPUs).
    const byPool = new Map(fitting.map((n) => [n.pool, n]));
    const plan = planPass(
      fitting.map((n) => n.pool),
      [{ id: t.id, clusterId: 1, tenantId: null, gpuCount: t.gpus, gpuType: null, estimateMs: null }],
      new Map(),
      { now: 0, maxReservations: 0 },
    );
    const p = plan.placements[0];
    if (!p) return undefined;
    p.pool.free.push(...p.gpus); // taken again below, like the other policies
    p.pool.releases.length = 0;
    return byPool.get(p.pool);
  };

  let stoppedAt: number | null = null;
  let allocated = 0;
  let placed = 0;
  for (let i = 0; i < trace.tasks.length; i++) {
    const t = trace.tasks[i];
    const n = choose(t);
    if (!n) {
      stoppedAt = i + 1;
      break;
    }
    n.pool.free.splice(0, t.gpus);
    n.cpu -= t.cpuMilli;
    n.memory -= t.memoryMib;
    allocated += t.gpus;
    placed++;
  }
  const total = nodes.reduce((s, n) => s + n.node.gpus, 0);
  // Remaining tasks, one of each shape: what could still use a node's free GPUs.
  const shapes = new Map<string, TraceTask>();
  for (const t of trace.tasks.slice(placed)) {
    shapes.set(`${t.gpus}|${t.cpuMilli}|${t.memoryMib}|${t.models.join("|")}`, t);
  }
  const remaining = [...shapes.values()];
  let stranded = 0;
  for (const n of nodes) {
    if (n.pool.free.length && !remaining.some((t) => fitsOn(t, n))) stranded += n.pool.free.length;
  }
  const pct = (x: number) => Number(((100 * x) / Math.max(1, total)).toFixed(2));
  return {
    policy,
    placed,
    stopped_at: stoppedAt,
    allocated_gpus: allocated,
    allocated_pct: pct(allocated),
    stranded_gpus: stranded,
    stranded_pct: pct(stranded),
    wall_ms: Math.round(performance.now() - started),
  };
}

/** A small seeded PRNG (mulberry32): random-fit repeatable from run to run. */
function mulberry32(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
