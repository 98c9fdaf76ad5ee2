/**
 * Replays the Alibaba openb 2023 trace (8,152 tasks, 1,213 nodes) through the scheduler's own planner and through
 * two baselines in the same process — plain FIFO first-fit (strict arrival order, the head blocks) and greedy
 * first-fit (arrival order, later tasks may overtake a blocked head) — and writes bench/out/replay.json.
 * Settings:
 * - as recorded: the trace barely loads its cluster (peak ~1% of the GPUs), so nothing ever waits and every
 *   policy has zero delay: it shows the replay is cheap, not which policy is better;
 * - loaded (the default load for comparisons): arrivals compressed ×100 on 10% of the nodes (same model mix), so
 *   tasks queue (peak allocation 100%);
 * - heavier: arrivals ×200 on 10% of the nodes, to see how the ranking holds as queues grow.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { formatReport, runReplay } from "../src/domain/jobs/replay/cli.js";
import { policies } from "../src/domain/jobs/replay/simulate.js";

const dir = process.env.TRACE_DIR ?? "/work/shared/traces/alibaba-openb-2023";
const nodes = `${dir}/openb_node_list_gpu_node.csv`;
const tasks = `${dir}/openb_pod_list_default.csv`;
const started = performance.now();
const settings = [
  { label: "as recorded", arrivalScale: 1, nodeFraction: 1 },
  { label: "loaded (arrivals ×100, 10% of nodes)", arrivalScale: 100, nodeFraction: 0.1 },
  { label: "heavier (arrivals ×200, 10% of nodes)", arrivalScale: 200, nodeFraction: 0.1 },
];
const out: Record<string, unknown> = {};
for (const s of settings) {
  const t0 = performance.now();
  const report = runReplay({ nodes, tasks, policies, ...s });
  const wall = Math.round(performance.now() - t0);
  console.log(`\n-- ${s.label}: ${wall} ms for all three policies (target < 10,000 ms per replay)`);
  process.stdout.write(formatReport(report));
  out[s.label] = { ...report, wall_ms: wall };
}
const total = Math.round(performance.now() - started);
console.log(`\nall settings, all policies: ${total} ms`);
mkdirSync("bench/out", { recursive: true });
writeFileSync("bench/out/replay.json", `${JSON.stringify({ total_ms: total, settings: out }, null, 2)}\n`);
