/**
 * The agent's resident memory holding 50 containers (target < 100 MB), beside a bare `node -e` in the same run.
 * The agent side is the real ContainerHost bundled by esbuild and run by plain node (as a host runs the agent's single
 * file), doing 300 passes over a simulated runtime of 50 containers: real containers are not the agent's memory, and
 * 50 of them are too heavy for this 2-core machine. Median of BENCH_REPEATS (default 3) runs.
 *
 *   npm run bench -- agent-rss
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";

const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const N = Number(process.env.BENCH_CONTAINERS ?? 50);
const root = resolve(import.meta.dirname, "..");
const out = join(mkdtempSync(join(tmpdir(), "agent-rss-")), "child.mjs");
execFileSync(
  join(root, "node_modules/.bin/esbuild"),
  ["bench/agent-rss/child.ts", "--bundle", "--platform=node", "--format=esm", "--target=node20", `--outfile=${out}`],
  { cwd: root, stdio: "ignore" },
);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
const baseline: number[] = [];
const agent: number[] = [];
for (let i = 0; i < REPEATS; i++) {
  baseline.push(
    Number(
      execFileSync(process.execPath, ["-e", "process.stdout.write(String(process.memoryUsage().rss))"], {
        encoding: "utf8",
      }),
    ),
  );
  const r = JSON.parse(execFileSync(process.execPath, [out, String(N), "300"], { encoding: "utf8" }));
  if (r.containers !== N) throw new Error(`the child held ${r.containers} containers, not ${N}`);
  agent.push(r.rss);
}
const a = median(agent);
const b = median(baseline);
console.log(
  `node ${process.version}, load ${loadavg()
    .map((x) => x.toFixed(1))
    .join(" ")}, ${REPEATS} runs (median)`,
);
console.log(`baseline  bare node -e                         RSS ${mb(b)} MB`);
console.log(
  `agent     ContainerHost, ${N} containers, 300 passes  RSS ${mb(a)} MB  (${(a / b).toFixed(2)}× baseline, +${mb(a - b)} MB)`,
);
console.log(`target < 100 MB: ${a < 100 * 1024 * 1024 ? "met" : "NOT met"}`);
