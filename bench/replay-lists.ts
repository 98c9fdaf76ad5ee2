/** The lists and settings that bench/replay.ts and bench/replay-variants.ts replay. */
import { existsSync } from "node:fs";
import { loadTrace, type Trace } from "../src/domain/jobs/replay/trace.js";

export interface ReplaySetting {
  label: string;
  /** "tuning": a list the rules were chosen on; "report": a list only reported on (never used to choose). */
  role?: "tuning" | "report";
  trace: () => Trace;
  arrivalScale: number;
  nodeFraction: number;
}

/** Keeps a seeded random share of the tasks (ids renumbered): another list of the same family. */
export function subsample(trace: Trace, share: number, seed: number): Trace {
  let a = seed >>> 0;
  const random = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const tasks = trace.tasks.filter(() => random() < share).map((t, i) => ({ ...t, id: i + 1 }));
  return { ...trace, tasks };
}

/**
 * Settings, for each timed list (default, gpuspec10, gpushare40): arrivals compressed ×100 and ×200 on 10% of the
 * nodes (same model mix), so tasks queue; then seeded random subsamples at ×150: two (70%) that the planner has been
 * compared on since the first version, six ("checked") looked at while choosing the starvation guard and the
 * placement, and six ("unseen") first replayed after that policy was fixed. The default list as recorded is
 * replayed once: nothing waits there. `quick`: only the recorded list and default ×100.
 */
export function replayLists(quick = false) {
  const dir = process.env.TRACE_DIR ?? "/work/shared/traces/alibaba-openb-2023";
  const nodes = `${dir}/openb_node_list_gpu_node.csv`;
  const list = (name: string) => `${dir}/openb_pod_list_${name}.csv`;
  const settings: ReplaySetting[] = [];
  const add = (label: string, name: string, arrivalScale: number, nodeFraction = 0.1, share?: number, seed = 1) =>
    settings.push({
      label,
      arrivalScale,
      nodeFraction,
      trace: () => {
        const t = loadTrace(nodes, list(name), undefined, nodeFraction);
        return share ? subsample(t, share, seed) : t;
      },
    });
  add("default as recorded", "default", 1, 1);
  for (const name of quick ? ["default"] : ["default", "gpuspec10", "gpushare40"]) {
    add(`${name} ×100, 10% of nodes`, name, 100);
    if (!quick) add(`${name} ×200, 10% of nodes`, name, 200);
  }
  if (!quick) {
    add("default, random 70% (seed 7) ×150", "default", 150, 0.1, 0.7, 7);
    add("gpushare40, random 70% (seed 11) ×150", "gpushare40", 150, 0.1, 0.7, 11);
    // Lists looked at while choosing the starvation guard and the type-aware placement (2026-11-30).
    add("checked: gpuspec10 70% (seed 3) ×150", "gpuspec10", 150, 0.1, 0.7, 3);
    add("checked: default 50% (seed 21) ×150", "default", 150, 0.1, 0.5, 21);
    add("checked: gpushare40 80% (seed 5) ×150", "gpushare40", 150, 0.1, 0.8, 5);
    add("checked: default 80% (seed 13) ×150", "default", 150, 0.1, 0.8, 13);
    add("checked: gpushare40 60% (seed 17) ×150", "gpushare40", 150, 0.1, 0.6, 17);
    add("checked: gpuspec10 50% (seed 29) ×150", "gpuspec10", 150, 0.1, 0.5, 29);
    // Lists first replayed after the policy was fixed: nothing was chosen on them.
    add("unseen: default 60% (seed 101) ×150", "default", 150, 0.1, 0.6, 101);
    add("unseen: gpuspec10 80% (seed 103) ×150", "gpuspec10", 150, 0.1, 0.8, 103);
    add("unseen: gpushare40 50% (seed 107) ×150", "gpushare40", 150, 0.1, 0.5, 107);
    add("unseen: gpuspec10 60% (seed 109) ×150", "gpuspec10", 150, 0.1, 0.6, 109);
    add("unseen: default 70% (seed 113) ×150", "default", 150, 0.1, 0.7, 113);
    add("unseen: gpushare40 70% (seed 127) ×150", "gpushare40", 150, 0.1, 0.7, 127);
  }
  return { settings, nodes, list };
}

/**
 * Twelve subsamples not in the bench: a hold-out for choices made on replayLists. Seeds 201–212 at ×150 (FRESH=1,
 * used to check round 2 and round 3), 301–312 at ×120 (FRESH=2) and 401–412 at ×180 (FRESH=3), first replayed
 * after round 3 was fixed.
 */
export function freshLists(firstSeed = 201, arrivalScale = 150) {
  const dir = process.env.TRACE_DIR ?? "/work/shared/traces/alibaba-openb-2023";
  const nodes = `${dir}/openb_node_list_gpu_node.csv`;
  const settings: ReplaySetting[] = [];
  let seed = firstSeed;
  for (const name of ["default", "gpuspec10", "gpushare40"]) {
    for (const share of [0.6, 0.7, 0.75, 0.8]) {
      const s = seed++;
      settings.push({
        label: `fresh: ${name} ${share * 100}% (seed ${s}) ×${arrivalScale}`,
        arrivalScale,
        nodeFraction: 0.1,
        trace: () => subsample(loadTrace(nodes, `${dir}/openb_pod_list_${name}.csv`, undefined, 0.1), share, s),
      });
    }
  }
  return { settings };
}

/**
 * The 24 pod lists of cluster-trace-gpu-v2023/csv in the public alibaba/clusterdata repository (commit 7a6c496).
 * Timed lists (qos, creation/deletion/scheduled times) can be replayed; the multigpu lists have no times or qos, so
 * they can only be filled (--fill). The rules of plan.ts were chosen on `tuningLists` (and seeded subsamples of
 * them); every other timed list is only reported on. The nine cpu* lists differ from default only in their CPU-only
 * tasks, which the GPU replay leaves out: their GPU tasks (sizes, types, qos, times) are default's.
 */
export const tuningLists = ["default", "gpuspec10", "gpushare40"];
export const reportLists = [
  ...["cpu0", "cpu037", "cpu050", "cpu072", "cpu100", "cpu200", "cpu235", "cpu250", "cpu300"],
  ...["gpushare20", "gpushare60", "gpushare80", "gpushare100"],
  ...["gpuspec05", "gpuspec20", "gpuspec25", "gpuspec33"],
];
export const untimedLists = ["multigpu20", "multigpu30", "multigpu40", "multigpu50"];

/**
 * Where a pod list is: `$TRACE_DIR/openb_pod_list_NAME.csv` (the shared folder holds default, gpuspec10,
 * gpushare40, multigpu30), else the gzipped copy in bench/replay-traces/ (the seventeen other timed lists, 1.9 MB).
 */
export function openbListPath(name: string): string {
  const dir = process.env.TRACE_DIR ?? "/work/shared/traces/alibaba-openb-2023";
  for (const path of [`${dir}/openb_pod_list_${name}.csv`, `bench/replay-traces/openb_pod_list_${name}.csv.gz`]) {
    if (existsSync(path)) return path;
  }
  throw new Error(
    `openb_pod_list_${name}.csv: not in ${dir} nor bench/replay-traces/; get it from github.com/alibaba/clusterdata, ` +
      "cluster-trace-gpu-v2023/csv/, and set TRACE_DIR to its folder",
  );
}

/**
 * Every timed openb list at ×100 and ×200 on 10% of the nodes: the matrix (20 lists × 2 loads), the
 * tuning lists first. `only`: the names to keep (a subset while developing).
 */
export function openbMatrix(only?: string[], loads = [100, 200]) {
  const dir = process.env.TRACE_DIR ?? "/work/shared/traces/alibaba-openb-2023";
  const nodes = `${dir}/openb_node_list_gpu_node.csv`;
  const settings: ReplaySetting[] = [];
  for (const [role, names] of [
    ["tuning", tuningLists],
    ["report", reportLists],
  ] as const) {
    for (const name of names) {
      if (only && !only.includes(name)) continue;
      for (const arrivalScale of loads) {
        settings.push({
          label: `${role === "tuning" ? "tuning" : "report"}: ${name} ×${arrivalScale}`,
          role,
          arrivalScale,
          nodeFraction: 0.1,
          trace: () => loadTrace(nodes, openbListPath(name), undefined, 0.1),
        });
      }
    }
  }
  return { settings, nodes };
}
