// Profiles the foundation bench's --app server (PostgreSQL) under 50 connections: node bench/profile-foundation.mjs DIR DATABASE_URL
// (or DIR x --summarise for profiles already in DIR). Prints self time per layer and the top functions.
// Drives bench/foundation.ts --app under node --cpu-prof, then summarises self time per layer.
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import autocannon from "autocannon";

const dir = process.argv[2];
const url = process.argv[3];
const only = process.argv[4] === "--summarise";
const child = only
  ? null
  : spawn(process.execPath, ["--cpu-prof", `--cpu-prof-dir=${dir}`, "bin/run-ts.mjs", "bench/foundation.ts", "--app"], {
      env: { ...process.env, BENCH_APP_DATABASE_URL: url },
      stdio: ["ignore", "ignore", "inherit", "ipc"],
    });
if (child) {
  const { port, key } = await new Promise((r) => child.once("message", r));
  const res = await autocannon({
    url: `http://127.0.0.1:${port}/api/v1/api-keys?limit=20`,
    connections: 50,
    duration: 8,
    headers: { "x-api-key": key },
  });
  console.log(
    `under profile: ${Math.round(res.requests.average)} req/s p99 ${res.latency.p99} ms non2xx ${res.non2xx}`,
  );
  child.disconnect();
  await new Promise((r) => child.once("exit", r));
}
// tsx's loader thread writes its own profile: the server's main thread is the largest.
const file = readdirSync(dir)
  .filter((f) => f.endsWith(".cpuprofile"))
  .map((f) => `${dir}/${f}`)
  .sort((a, b) => statSync(b).size - statSync(a).size)[0];
const prof = JSON.parse(readFileSync(file, "utf8"));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const dt = new Map();
for (let i = 0; i < prof.samples.length; i++)
  dt.set(prof.samples[i], (dt.get(prof.samples[i]) ?? 0) + (prof.timeDeltas[i] ?? 0));
let total = 0;
const layer = new Map();
const fns = new Map();
for (const [id, t] of dt) {
  const n = byId.get(id);
  const u = n.callFrame.url || n.callFrame.functionName;
  total += t;
  let l = u.includes("/node_modules/")
    ? "npm:" +
      u
        .split("/node_modules/")
        .pop()
        .split("/")
        .slice(0, u.split("/node_modules/").pop().startsWith("@") ? 2 : 1)
        .join("/")
    : u.includes("/src/")
      ? "src/" + u.split("/src/").pop()
      : u.startsWith("node:")
        ? u
        : n.callFrame.functionName || "(native)";
  if (n.callFrame.functionName === "(idle)") l = "(idle)";
  if (n.callFrame.functionName === "(garbage collector)") l = "(gc)";
  if (n.callFrame.functionName === "(program)") l = "(program)";
  layer.set(l, (layer.get(l) ?? 0) + t);
  const f = `${n.callFrame.functionName || "(anon)"} ${l}:${n.callFrame.lineNumber}`;
  fns.set(f, (fns.get(f) ?? 0) + t);
}
const busy = total - (layer.get("(idle)") ?? 0);
console.log("layer self time, % of busy CPU:");
for (const [l, t] of [...layer].sort((a, b) => b[1] - a[1]).slice(0, 25))
  if (l !== "(idle)") console.log(`  ${((t / busy) * 100).toFixed(1).padStart(5)}%  ${l}`);
console.log("top functions:");
for (const [f, t] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, 25))
  if (!f.startsWith("(idle)")) console.log(`  ${((t / busy) * 100).toFixed(1).padStart(5)}%  ${f}`);
