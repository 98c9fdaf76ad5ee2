/**
 * Install → node active: the operator's join command's install.sh, served by a real server (PGlite, in this process),
 * run into a fresh root (a temp dir, no checkout), until the API shows the node active with its agent's version.
 * Baseline in the same run: spawning `node --version` (the floor of anything that starts Node). Target < 30 s.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { serve } from "@hono/node-server";
import pino from "pino";
import { loadConfig } from "../src/config.js";
import { openDatabase } from "../src/db/client.js";
import { buildServer } from "../src/server.js";

const RUNS = Number(process.env.RUNS ?? 5);
const dir = mkdtempSync(join(tmpdir(), "gpuplane-bench-install-"));
const fakeSmi = resolve("packages/agent/test/fake-nvidia-smi/nvidia-smi");
const adminKey = `gpk_${randomBytes(32).toString("hex")}`;
const config = loadConfig({
  GPUPLANE_ADMIN_KEY: adminKey,
  GPUPLANE_WORKERS: "off",
  GPUPLANE_SIMULATOR: "off",
  LOG_LEVEL: "silent",
  GPUPLANE_RATE_LIMITS: JSON.stringify({ read: 1e9, write: 1e9, public: 1e9 }),
});
const database = await openDatabase({ dataDir: join(dir, "db") });
const server = await buildServer(config, { database, log: pino({ level: "silent" }), workers: false });
const http = serve({ fetch: server.app.fetch, port: 0, hostname: "127.0.0.1" });
await new Promise((r) => http.once("listening", r));
const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
const api = async (method: string, path: string, body?: unknown) =>
  (
    await fetch(url + path, {
      method,
      headers: { "x-api-key": adminKey, "content-type": "application/json" },
      body: body ? JSON.stringify(body) : undefined,
    })
  ).json();

await fetch(`${url}/agent/version`); // the build made at server start

const cluster = (await api("POST", "/api/v1/clusters", { name: "bench", region: "local" })).data.id;

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
const baseline: number[] = [];
const install: number[] = [];
const pids: string[] = [];
for (let i = 0; i < RUNS; i++) {
  let t = performance.now();
  spawnSync(process.execPath, ["--version"]);
  baseline.push(performance.now() - t);

  const token = (await api("POST", `/api/v1/clusters/${cluster}/join-tokens`, {})).data.token;
  const root = join(dir, `host-${i}`);
  const hostname = `bench-host-${i}`;
  t = performance.now();
  const script = await (await fetch(`${url}/agent/install.sh`)).text();
  const sh = spawn(
    "sh",
    [
      "-s",
      "--",
      "--token",
      token,
      "--root",
      root,
      "--",
      "--runtime",
      "none",
      "--nvidia-smi",
      fakeSmi,
      "--hostname",
      hostname,
    ],
    { stdio: ["pipe", "ignore", "ignore"], cwd: dir },
  );
  // Listen for the script's exit now: it starts the agent in the background and returns, often before the node is
  // active, and a `close` listener added after that would wait forever (the hang this bench had).
  const closed = new Promise((r) => sh.once("close", r));
  sh.stdin.end(script);
  for (;;) {
    const nodes = (await api("GET", "/api/v1/nodes")).data;
    const node = nodes.find((n: { hostname: string }) => n.hostname === hostname);
    if (node?.status === "active" && node.agent_version) break;
    if (performance.now() - t > 60_000) throw new Error("node not active within 60 s");
    await new Promise((r) => setTimeout(r, 100));
  }
  install.push(performance.now() - t);
  await closed;
  const pidFile = join(root, "var/lib/gpuplane-agent/run.pid");
  if (existsSync(pidFile)) pids.push(readFileSync(pidFile, "utf8").trim());
}
for (const pid of pids) {
  try {
    process.kill(Number(pid), "SIGTERM");
  } catch {
    // gone
  }
}
await new Promise((r) => setTimeout(r, 1500));
const ms = (x: number) => `${x.toFixed(0)} ms`;
console.log(`${RUNS} installs, ${new Date().toISOString().slice(0, 10)}, this machine`);
console.log(`baseline: node --version spawn        p50 ${ms(pct(baseline, 0.5))}  max ${ms(Math.max(...baseline))}`);
console.log(`install.sh → node active (API)        p50 ${ms(pct(install, 0.5))}  max ${ms(Math.max(...install))}`);
console.log(
  `ratio p50 ${(pct(install, 0.5) / pct(baseline, 0.5)).toFixed(1)}x; target < 30 s: ${Math.max(...install) < 30_000 ? "met" : "MISSED"}`,
);
writeFileSync(join(dir, "done"), "");
http.close();
await server.close();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
