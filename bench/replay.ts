/**
 * Replays the Alibaba openb 2023 lists through the scheduler's own planner and two baselines in the same process —
 * plain FIFO first-fit (strict arrival order, the head blocks) and greedy first-fit (arrival order, later tasks
 * may overtake a blocked head) — and runs the fill experiment on the multigpu list. Writes bench/out/replay.json.
 * The settings (lists, loads, subsamples) are in bench/replay-lists.ts.
 *
 *   npm run bench -- replay            (BENCH_QUICK=1: only default ×100 and the fill)
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { formatFill, formatReport, type ReplayReport, replayTrace, runFill } from "../src/domain/jobs/replay/cli.js";
import { policies } from "../src/domain/jobs/replay/simulate.js";
import { openbMatrix, replayLists } from "./replay-lists.js";

// The matrix: every timed openb 2023 list at ×100 and ×200 on 10% of the nodes (tuning lists first), and the
// default list as recorded. BENCH_QUICK=1: only the settings of replayLists(true).
const quick = process.env.BENCH_QUICK === "1";
const { nodes, list, settings: quickSettings } = replayLists(true);
const settings = quick ? quickSettings : [quickSettings[0], ...openbMatrix().settings];

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
const won = (name: string) => verdicts.map((v) => v.split(name)[1]?.slice(1, 3) ?? "").join("");
for (const name of ["greedy", "fifo"]) {
  const yn = won(name);
  console.log(`mean and p99 comparisons won against ${name}: ${yn.split("Y").length - 1} of ${yn.length}`);
}
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
