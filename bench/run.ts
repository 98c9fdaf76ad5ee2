/**
 * Runs the benchmarks one after another, each in its own process so none warms the next.
 * `npm run bench` runs all; `npm run bench -- scheduler metrics` runs the named ones.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const all = [
  "foundation",
  "instances",
  "webhooks",
  "metering",
  "auto-stop",
  "scheduler",
  "metrics",
  "replay",
  "containers",
  "upstreams",
  "cli",
  "agent-install",
  "agent-rss",
];
const wanted = process.argv.slice(2);
const chosen = wanted.length ? wanted : all;
let failed = 0;
for (const name of chosen) {
  const file = `bench/${name}.ts`;
  if (!existsSync(file)) {
    console.log(`\n== ${name}: no bench/${name}.ts yet`);
    continue;
  }
  console.log(`\n== ${name}`);
  const result = spawnSync(process.execPath, ["bin/run-ts.mjs", file], { stdio: "inherit" });
  if (result.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
