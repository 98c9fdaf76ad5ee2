/**
 * How long `gpuplane --version` takes to start and exit, beside `node -e 0` (Node's own start) in the same run:
 * the installed CLI (the bundle, packages/cli/bin), the checkout's root binary (`npx gpuplane`, which uses the bundle
 * when it is current) and, as the old baseline, the sources through tsx. Median of N runs each, interleaved.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const runs = Number(process.env.BENCH_RUNS ?? 15);
if (!existsSync("packages/cli/dist/gpuplane.mjs")) {
  spawnSync(process.execPath, ["packages/cli/scripts/build.mjs"], { stdio: "inherit" });
}
const tsxRun = `import { register } from "tsx/esm/api"; register(); const { main } = await import("./packages/cli/src/main.ts"); await main(["--version"]);`;
const cases: [string, string[]][] = [
  ["node -e 0 (baseline)", ["-e", "0"]],
  ["packages/cli/bin/gpuplane.mjs --version (installed: bundle)", ["packages/cli/bin/gpuplane.mjs", "--version"]],
  ["bin/gpuplane.mjs --version (npx gpuplane in a checkout)", ["bin/gpuplane.mjs", "--version"]],
  ["sources through tsx --version (before)", ["--input-type=module", "-e", tsxRun]],
];
const times = cases.map(() => [] as number[]);
for (let r = 0; r < runs; r++) {
  cases.forEach(([, args], i) => {
    const start = process.hrtime.bigint();
    const result = spawnSync(process.execPath, args, { encoding: "utf8" });
    if (result.status !== 0) throw new Error(`${args.join(" ")} failed: ${result.stderr}`);
    times[i].push(Number(process.hrtime.bigint() - start) / 1e6);
  });
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = median(times[0]);
console.log(
  `gpuplane --version, median of ${runs} runs (load average ${(await import("node:os")).loadavg()[0].toFixed(1)})`,
);
cases.forEach(([name], i) => {
  const m = median(times[i]);
  console.log(`  ${name.padEnd(60)} ${m.toFixed(0).padStart(5)} ms  (${(m / base).toFixed(1)}× node -e 0)`);
});
