/**
 * Replays the Alibaba openb 2023 lists through the scheduler's own planner and two baselines in the same process —
 * plain FIFO first-fit (strict arrival order, the head blocks) and greedy first-fit (arrival order, later tasks
 * may overtake a blocked head) — and runs the fill experiment on the multigpu list. Writes bench/out/replay.json.
 * Settings, for each timed list (default, gpuspec10, gpushare40):
 * - loaded: arrivals compressed ×100 on 10% of the nodes (same model mix), so tasks queue;
 * - heavier: arrivals ×200 on 10% of the nodes, to see how the ranking holds as queues grow;
 * and, as lists of the same family the planner was not tuned on, seeded random subsamples at ×150: two (70%) that
 * the planner has been compared on since the first version, six ("checked") looked at while choosing the starvation
 * guard and the placement, and six ("unseen") first replayed after the policy was fixed. The default list as
 * recorded is replayed once: nothing waits there.
 *
 *   npm run bench -- replay            (BENCH_QUICK=1: only default ×100 and the fill)
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { formatFill, formatReport, type ReplayReport, replayTrace, runFill } from "../src/domain/jobs/replay/cli.js";
import { policies } from "../src/domain/jobs/replay/simulate.js";
import { loadTrace, type Trace } from "../src/domain/jobs/replay/trace.js";

const dir = process.env.TRACE_DIR ?? "/work/shared/traces/alibaba-openb-2023";
const nodes = `${dir}/openb_node_list_gpu_node.csv`;
const list = (name: string) => `${dir}/openb_pod_list_${name}.csv`;
const quick = process.env.BENCH_QUICK === "1";

/** Keeps a seeded random share of the tasks (ids renumbered): another list of the same family. */
function subsample(trace: Trace, share: number, seed: number): Trace {
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

const settings: { label: string; trace: () => Trace; arrivalScale: number; nodeFraction: number }[] = [];
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

const started = performance.now();
const out: Record<string, unknown> = {};
const verdicts: string[] = [];
for (const s of settings) {
  const t0 = performance.now();
  const report = replayTrace(s.trace(), { policies, arrivalScale: s.arrivalScale, nodeFraction: s.nodeFraction });
  const wall = Math.round(performance.now() - t0);
  console.log(`\n-- ${s.label}: ${wall} ms for all three policies`);
  process.stdout.write(formatReport(report));
  out[s.label] = { ...report, wall_ms: wall };
  verdicts.push(`${s.label.padEnd(44)} ${verdict(report)}`);
}

console.log("\n-- fill experiment: openb_pod_list_multigpu30, all nodes");
const fillReport = runFill({ nodes, tasks: list("multigpu30") });
process.stdout.write(formatFill(fillReport));
out.fill_multigpu30 = fillReport;

console.log("\n-- gpuplane lower than greedy / fifo? (mean, p99, then each class's mean)");
for (const v of verdicts) console.log(v);
const total = Math.round(performance.now() - started);
console.log(`\nall settings: ${total} ms`);
mkdirSync("bench/out", { recursive: true });
writeFileSync("bench/out/replay.json", `${JSON.stringify({ total_ms: total, settings: out }, null, 2)}\n`);

/** "greedy YY YYYY  fifo YY YYYY": Y where gpuplane's delay is lower (or both zero), n where not. */
function verdict(report: ReplayReport): string {
  const ours = report.results.find((r) => r.policy === "gpuplane")!;
  return (["greedy", "fifo"] as const)
    .map((name) => {
      const base = report.results.find((r) => r.policy === name)!;
      const lower = (a: number, b: number) => (a < b || (a === b && a === 0) ? "Y" : "n");
      const classes = ours.delay_by_priority
        .map((c) => lower(c.mean, base.delay_by_priority.find((x) => x.priority === c.priority)?.mean ?? 0))
        .join("");
      return `${name} ${lower(ours.queueing_delay_s.mean, base.queueing_delay_s.mean)}${lower(ours.queueing_delay_s.p99, base.queueing_delay_s.p99)} ${classes}`;
    })
    .join("   ");
}
