/**
 * The foundation's hot path, end to end: an authenticated list request (`GET /api/v1/api-keys` with a tenant key:
 * auth, rate limiter, request log, metrics, validation, a keyset query and a count) through a real HTTP server
 * (@hono/node-server), against a bare node:http JSON response in the same run. Each server runs in its own process;
 * autocannon drives 50 connections from this one. Then the server's resident memory at rest, on PGlite and on
 * PostgreSQL (`node bin/gpuplane.mjs serve`, VmRSS once it is up and idle).
 *
 * Targets: authenticated ≥ 50% of bare requests/s, p99 < 20 ms at 50 connections.
 *
 *   npm run bench -- foundation        (BENCH_DATABASE_URL or TEST_DATABASE_URL adds PostgreSQL)
 *   BENCH_SECONDS=10 BENCH_CONNECTIONS=50
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import pg from "pg";

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const pgBase = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
const role = process.argv[2];

// ---- child roles -------------------------------------------------------------------------------------------------

if (role === "--bare") {
  const body = JSON.stringify({
    code: "OK",
    data: [{ id: "key_0", label: "default" }],
    meta: { total: 1, cursor: null, has_more: false },
  });
  createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(body);
  }).listen(0, "127.0.0.1", function (this: any) {
    process.send!({ port: this.address().port });
  });
} else if (role === "--hono") {
  // The framework alone: Hono on @hono/node-server answering the same body, no middleware, no database.
  const { serve } = await import("@hono/node-server");
  const { Hono } = await import("hono");
  const data = [{ id: "key_0", label: "default" }];
  const app = new Hono().get("/api/v1/api-keys", (c) =>
    c.json({ code: "OK", data, meta: { total: 1, cursor: null, has_more: false } }),
  );
  serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) => process.send!({ port: info.port }));
} else if (role === "--query") {
  // The database's share alone: the list's query (the same SQL, a named prepared statement) through pg's pool of
  // 10, 50 in flight, as fast as it goes; no HTTP. An upper bound for any server that makes this round trip.
  const url = process.argv[3];
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  pool.on("error", () => {});
  const { rows } = await pool.query("select tenant_id from api_keys where tenant_id is not null limit 1");
  const text = `select *, (select count(*) from api_keys where tenant_id = $1 and revoked_at is null) as total
                  from api_keys where tenant_id = $1 and revoked_at is null order by id desc limit $2`;
  const run = async (ms: number) => {
    let done = 0;
    const until = Date.now() + ms;
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (Date.now() < until) {
          await pool.query({ name: "bench_keys_page", text, values: [rows[0].tenant_id, 21] });
          done++;
        }
      }),
    );
    return Math.round(done / (ms / 1000));
  };
  await run(2_000); // warm-up
  process.send!({ qps: await run(seconds * 1000) });
  await pool.end();
  process.disconnect();
} else if (role === "--app") {
  const { serve } = await import("@hono/node-server");
  const { loadConfig } = await import("../src/config.js");
  const { buildServer } = await import("../src/server.js");
  const dataDir = mkdtempSync(join(tmpdir(), "gpuplane-bench-"));
  // The production defaults (info logs to stdout, metrics, limiter), with limits raised so 50 connections measure
  // the limiter's cost rather than its 429s, and the background loops off so they do not steal the CPU.
  const config = loadConfig({
    ...process.env,
    DATABASE_URL: process.env.BENCH_APP_DATABASE_URL,
    GPUPLANE_DATA_DIR: dataDir,
    GPUPLANE_WORKERS: "off",
    GPUPLANE_RATE_LIMITS: JSON.stringify({ read: 100_000_000 }),
    LOG_LEVEL: "info",
  });
  const server = await buildServer(config);
  const signup = await server.app.request("/api/v1/auth/register", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: `bench-${randomBytes(4).toString("hex")}@example.com`, password: "bench password" }),
  });
  const key = (await signup.json()).data.api_key.key;
  for (let i = 0; i < 4; i++) {
    await server.app.request("/api/v1/api-keys", {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": key },
      body: JSON.stringify({ label: `bench-${i}` }),
    });
  }
  const http = serve({ fetch: server.app.fetch, port: 0, hostname: "127.0.0.1" }, (info) => {
    process.send!({ port: info.port, key });
  });
  process.on("disconnect", () => {
    http.close();
    void server.close().finally(() => {
      rmSync(dataDir, { recursive: true, force: true });
      process.exit(0);
    });
  });
} else {
  await main();
}

// ---- the run -----------------------------------------------------------------------------------------------------

interface Served {
  child: ChildProcess;
  port: number;
  key?: string;
}

function fork(which: "--app" | "--bare" | "--hono", env: Record<string, string | undefined> = {}): Promise<Served> {
  const child = spawn(process.execPath, ["bin/run-ts.mjs", "bench/foundation.ts", which], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  return new Promise((resolve, reject) => {
    child.once("message", (m: any) => resolve({ child, port: m.port, key: m.key }));
    child.once("exit", (code) => reject(new Error(`${which} exited with ${code}`)));
  });
}

async function load(port: number, headers: Record<string, string>, duration: number) {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/api/v1/api-keys?limit=20`,
    connections,
    duration,
    headers,
  });
  if (result.non2xx > 0) throw new Error(`${result.non2xx} non-2xx responses`);
  return { rps: Math.round(result.requests.average), p50: result.latency.p50, p99: result.latency.p99 };
}

async function measure(label: string, env: Record<string, string | undefined>) {
  const bare = await fork("--bare");
  const hono = await fork("--hono");
  const app = await fork("--app", env);
  try {
    const auth = { "x-api-key": app.key! };
    await load(bare.port, {}, 2); // warm-up
    await load(hono.port, {}, 2);
    await load(app.port, auth, 2);
    const bareRun = await load(bare.port, {}, seconds);
    const honoRun = await load(hono.port, {}, seconds);
    const appRun = await load(app.port, auth, seconds);
    const ratio = appRun.rps / bareRun.rps;
    console.log(
      `${label.padEnd(10)} authenticated list ${String(appRun.rps).padStart(6)} req/s (p50 ${appRun.p50} ms, p99 ${appRun.p99} ms)` +
        ` | bare node:http ${String(bareRun.rps).padStart(6)} req/s (p99 ${bareRun.p99} ms)` +
        ` | ratio ${(ratio * 100).toFixed(1)}% (target ≥ 50%), p99 ${appRun.p99 < 20 ? "<" : "≥"} 20 ms` +
        ` | Hono alone, no middleware or database, ${honoRun.rps} req/s (${((honoRun.rps / bareRun.rps) * 100).toFixed(0)}% of bare)`,
    );
    return {
      authenticated: appRun,
      bare: bareRun,
      hono_alone: honoRun,
      ratio: Math.round(ratio * 1000) / 1000,
    };
  } finally {
    app.child.disconnect();
    bare.child.kill();
    hono.child.kill();
    await new Promise((r) => app.child.once("exit", r));
  }
}

function queryAlone(url: string): Promise<number> {
  const child = spawn(process.execPath, ["bin/run-ts.mjs", "bench/foundation.ts", "--query", url], {
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  // Resolve once it has exited, so its connections are gone before the database is dropped.
  let qps: number | undefined;
  child.once("message", (m: any) => {
    qps = m.qps;
  });
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => (qps !== undefined ? resolve(qps) : reject(new Error(`--query exited with ${code}`))));
  });
}

/**
 * The same authenticated list through a real `gpuplane serve` with GPUPLANE_PROCESSES=n (node:cluster, one port),
 * PostgreSQL, background loops off, limits raised as for --app: one process against every core, same method.
 */
async function servedBy(url: string, processes: number) {
  const port = 30_000 + Math.floor(Math.random() * 20_000);
  const child = spawn(process.execPath, ["bin/gpuplane.mjs", "serve"], {
    env: {
      ...process.env,
      PORT: String(port),
      DATABASE_URL: url,
      GPUPLANE_PROCESSES: String(processes),
      GPUPLANE_WORKERS: "off",
      GPUPLANE_RATE_LIMITS: JSON.stringify({ read: 100_000_000 }),
      LOG_LEVEL: "info",
      GPUPLANE_ADMIN_KEY: `gpk_${"c".repeat(64)}`,
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  try {
    const base = `http://127.0.0.1:${port}`;
    const until = Date.now() + 120_000;
    for (;;) {
      if (Date.now() > until || child.exitCode !== null) throw new Error("server did not come up");
      const up = await fetch(`${base}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (up) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    // Every process up before the clock starts (the first listens alone, then the rest fork).
    await new Promise((r) => setTimeout(r, 3_000));
    const signup = await fetch(`${base}/api/v1/auth/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        email: `bench-${randomBytes(4).toString("hex")}@example.com`,
        password: "bench password",
      }),
    });
    const key = (await signup.json()).data.api_key.key;
    for (let i = 0; i < 4; i++) {
      await fetch(`${base}/api/v1/api-keys`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": key },
        body: JSON.stringify({ label: `bench-${i}` }),
      });
    }
    await load(port, { "x-api-key": key }, 2);
    return await load(port, { "x-api-key": key }, seconds);
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
  }
}

/** VmRSS of a real `gpuplane serve`, once it answers /healthz and has sat idle for a few seconds. */
async function restingRss(env: Record<string, string | undefined>): Promise<number> {
  const port = 30_000 + Math.floor(Math.random() * 20_000);
  const child = spawn(process.execPath, ["bin/gpuplane.mjs", "serve"], {
    env: { ...process.env, PORT: String(port), LOG_LEVEL: "warn", GPUPLANE_ADMIN_KEY: `gpk_${"b".repeat(64)}`, ...env },
    stdio: ["ignore", "ignore", "inherit"],
  });
  try {
    const until = Date.now() + 120_000;
    for (;;) {
      if (Date.now() > until || child.exitCode !== null) throw new Error("server did not come up");
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    await new Promise((r) => setTimeout(r, 5_000));
    const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
  }
}

async function withFreshPostgres<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const name = `gp_bench_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: pgBase });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = new URL(pgBase!);
  url.pathname = `/${name}`;
  try {
    return await fn(url.toString());
  } finally {
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

async function main() {
  const mib = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
  const load = loadavg().map((l) => Math.round(l * 10) / 10);
  console.log(`foundation: ${connections} connections, ${seconds} s per run, ${cpus().length} CPUs, load ${load[0]}`);
  const runs: Record<string, unknown> = {};
  runs.pglite = await measure("pglite", {});
  if (pgBase) {
    runs.postgres = await withFreshPostgres(async (url) => {
      const run = await measure("postgres", { BENCH_APP_DATABASE_URL: url });
      const qps = await queryAlone(url);
      console.log(
        `postgres   the list's query alone through pg (pool of 10, ${connections} in flight, no HTTP): ${qps} queries/s` +
          ` = ${((qps / run.bare.rps) * 100).toFixed(1)}% of bare node:http`,
      );
      const one = await servedBy(url, 1);
      const all = await servedBy(url, cpus().length);
      console.log(
        `postgres   gpuplane serve, one process: ${one.rps} req/s (p50 ${one.p50} ms, p99 ${one.p99} ms)` +
          ` | GPUPLANE_PROCESSES=${cpus().length} (every core): ${all.rps} req/s (p50 ${all.p50} ms, p99 ${all.p99} ms)` +
          ` | ${(all.rps / one.rps).toFixed(2)}x; the query alone ${qps} q/s, so ${((all.rps / qps) * 100).toFixed(0)}% of it`,
      );
      return {
        ...run,
        query_alone_qps: qps,
        serve_one_process: one,
        serve_every_core: { processes: cpus().length, ...all },
      };
    });
  }

  const dataDir = mkdtempSync(join(tmpdir(), "gpuplane-bench-rss-"));
  const rss: Record<string, number> = {};
  try {
    rss.pglite_mib = mib(await restingRss({ GPUPLANE_DATA_DIR: dataDir }));
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
  if (pgBase) rss.postgres_mib = mib(await withFreshPostgres((url) => restingRss({ DATABASE_URL: url })));
  console.log(
    `resident memory at rest: PGlite ${rss.pglite_mib} MiB${rss.postgres_mib ? `, PostgreSQL ${rss.postgres_mib} MiB` : ""}`,
  );

  mkdirSync("bench/out", { recursive: true });
  const out = {
    at: new Date().toISOString(),
    connections,
    seconds,
    cpus: cpus().length,
    load_at_start: load,
    runs,
    rss,
  };
  writeFileSync("bench/out/foundation.json", `${JSON.stringify(out, null, 2)}\n`);
  console.log("written to bench/out/foundation.json");
}
