/**
 * Metric ingestion through the HTTP API on PostgreSQL vs a raw COPY of the same rows, in one run.
 *
 * A fresh database is created from BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), the server
 * runs in-process on a real socket with its gpu_latest_metrics flusher started (as a serving process has it; workers
 * off), 10,000 GPUs are registered, and 120 batches of 5,000 samples are POSTed over 4 concurrent keep-alive
 * connections by a load generator on a worker thread (node:http; BENCH_CLIENT=inline runs it on the server's own
 * thread instead). The baseline COPYs the very same rows (as COPY text built before timing) over the same number of
 * connections. Bodies are serialised before timing, so the client's JSON cost is not counted against the server; the
 * server's parse, validation, reference check, COPY and the final latest-sample flush of each round are. Everything
 * shares the machine's cores with PostgreSQL, so the CPU used per round (this process; all postgres processes, from
 * /proc) is printed beside the rates. Median of BENCH_ROUNDS (5) alternating rounds; writes bench/out/metrics.json.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { Worker } from "node:worker_threads";
import { serve } from "@hono/node-server";
import pg from "pg";
import pino from "pino";
import { loadConfig } from "../src/config.js";
import { openDatabase } from "../src/db/client.js";
import { copyFromStdin } from "../src/db/copy.js";
import { copyStatement, copyText, type Sample } from "../src/domain/metrics/ingest.js";
import { flushLatestMetrics } from "../src/domain/metrics/latest.js";
import { maintainMetrics } from "../src/domain/metrics/maintenance.js";
import { buildServer } from "../src/server.js";

const base = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const GPUS = Number(process.env.BENCH_GPUS ?? 10_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 5_000);
const BATCHES = Number(process.env.BENCH_BATCHES ?? 120);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CLIENT = process.env.BENCH_CLIENT === "inline" ? "inline" : "thread";

const name = `gp_bench_metrics_${randomBytes(4).toString("hex")}`;
const admin = new pg.Client({ connectionString: base });
await admin.connect();
await admin.query(`create database ${name}`);
await admin.end();
const url = new URL(base);
url.pathname = `/${name}`;

const key = `gpk_${randomBytes(32).toString("hex")}`;
const database = await openDatabase({ databaseUrl: url.toString(), poolSize: CONCURRENCY + 4 });
const config = loadConfig({
  GPUPLANE_ADMIN_KEY: key,
  GPUPLANE_WORKERS: "off",
  LOG_LEVEL: "silent",
  DATABASE_URL: url.toString(),
});
const server = await buildServer(config, { database, log: pino({ level: "silent" }), workers: false });
server.startWorkers(); // workers stay off; this starts the per-process gpu_latest_metrics flusher, as in production
const http = serve({ fetch: server.app.fetch, port: 0, hostname: "127.0.0.1" });
await new Promise((r) => http.once("listening", r));
const port = (http.address() as { port: number }).port;

try {
  // Fleet: 10,000 GPUs on 8-GPU nodes, inserted directly (setup is not what is measured).
  const pool = database.pool!;
  await pool.query(`insert into clusters (name, region) values ('bench', 'us-east-1')`);
  await pool.query(
    `insert into nodes (cluster_id, hostname, total_gpus) select 1, 'bench-' || i, 8 from generate_series(1, $1) i`,
    [Math.ceil(GPUS / 8)],
  );
  await pool.query(
    // Registered yesterday: the samples below are from the last hour, and samples before registration are refused.
    `insert into gpus (node_id, gpu_index, model, vram_mb, created_at)
     select ((i - 1) / 8) + 1, (i - 1) % 8, 'NVIDIA H100 80GB HBM3', 81559, now() - interval '1 day'
       from generate_series(1, $1) i`,
    [GPUS],
  );
  await maintainMetrics(server.ctx); // daily partitions for today and ahead

  // The same rows for both paths: each batch covers 5,000 distinct GPUs at one timestamp.
  const start = Date.now() - 3600_000;
  const batches: Sample[][] = [];
  for (let b = 0; b < BATCHES; b++) {
    const ts = new Date(start + b * 1000);
    const batch: Sample[] = [];
    for (let i = 0; i < BATCH; i++) {
      batch.push({
        gpuId: ((b * BATCH + i) % GPUS) + 1,
        ts,
        utilizationPct: (i * 7) % 101,
        memoryUsedMb: 40_000 + (i % 1000),
        memoryTotalMb: 81_559,
        temperatureC: 40 + (i % 40),
        powerDrawW: 250 + (i % 400),
      });
    }
    batches.push(batch);
  }
  const bodies = batches.map((batch) =>
    JSON.stringify({
      metrics: batch.map((s) => ({
        gpu_id: s.gpuId,
        ts: s.ts!.toISOString(),
        utilization_pct: s.utilizationPct,
        memory_used_mb: s.memoryUsedMb,
        memory_total_mb: s.memoryTotalMb,
        temperature_c: s.temperatureC,
        power_draw_w: s.powerDrawW,
      })),
    }),
  );
  const copyTexts = batches.map((batch) => copyText(batch, new Date()));
  const total = BATCH * BATCHES;

  async function runConcurrent(work: (i: number) => Promise<void>): Promise<number> {
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < BATCHES) await work(next++);
      }),
    );
    return performance.now() - t0;
  }

  // The load generator runs on its own thread (its own event loop), as a fleet's agents would not share the server's:
  // BENCH_CLIENT=inline puts it on the server's thread instead, which charges the client's HTTP work to the server.
  const client = CLIENT === "thread" ? await loadThread(port, key, bodies) : undefined;
  async function viaHttp(): Promise<number> {
    const t0 = performance.now();
    if (client) await client.run();
    else {
      await runConcurrent(async (i) => {
        const res = await fetch(`http://127.0.0.1:${port}/api/v1/metrics`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-api-key": key },
          body: bodies[i],
        });
        if (res.status !== 201) throw new Error(`POST /metrics: ${res.status} ${await res.text()}`);
        await res.arrayBuffer();
      });
    }
    // The latest-sample flush that a serving process runs every second is part of sustained ingestion: counted.
    await flushLatestMetrics(server.ctx);
    return performance.now() - t0;
  }

  const copyClients = await Promise.all(Array.from({ length: CONCURRENCY }, () => pool.connect()));
  async function viaCopy(): Promise<number> {
    const free = [...copyClients];
    return runConcurrent(async (i) => {
      const client = free.pop()!;
      try {
        await copyFromStdin(client, copyStatement, copyTexts[i]);
      } finally {
        free.push(client);
      }
    });
  }

  const reset = async () => {
    await flushLatestMetrics(server.ctx);
    await pool.query("truncate gpu_metrics; truncate gpu_latest_metrics");
  };
  // Warm both paths (JIT, plans, connections), then alternate rounds so neither always runs on a warmer database.
  await viaHttp();
  await reset();
  await viaCopy();
  await reset();
  const httpMs: number[] = [];
  const copyMs: number[] = [];
  const httpCpu: Cpu[] = [];
  const copyCpu: Cpu[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    copyMs.push(await cpuOf(copyCpu, viaCopy));
    await reset();
    httpMs.push(await cpuOf(httpCpu, viaHttp));
    const latest = await pool.query("select count(*)::int as n, max(ts) as ts from gpu_latest_metrics");
    if (latest.rows[0].n !== GPUS) throw new Error(`expected ${GPUS} latest rows, found ${latest.rows[0].n}`);
    const { rows } = await pool.query("select count(*)::int as n from gpu_metrics");
    if (rows[0].n !== total) throw new Error(`expected ${total} rows, found ${rows[0].n}`);
    await reset();
  }
  for (const c of copyClients) c.release();
  await client?.close();

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const httpRate = total / (median(httpMs) / 1000);
  const copyRate = total / (median(copyMs) / 1000);
  const result = {
    benchmark: "metrics",
    database: "postgresql",
    cpus: cpus().length,
    gpus: GPUS,
    batch_size: BATCH,
    batches: BATCHES,
    samples_per_round: total,
    concurrency: CONCURRENCY,
    client: CLIENT === "thread" ? "worker thread (own event loop), same process" : "server's own thread",
    rounds: ROUNDS,
    http_ms: httpMs.map((x) => Math.round(x)),
    copy_ms: copyMs.map((x) => Math.round(x)),
    // CPU seconds used per round: this process (server, plus the load generator thread) and all PostgreSQL processes.
    http_cpu_ms: medianCpu(httpCpu),
    copy_cpu_ms: medianCpu(copyCpu),
    http_samples_per_s: Math.round(httpRate),
    raw_copy_samples_per_s: Math.round(copyRate),
    ratio: Math.round((httpRate / copyRate) * 1000) / 1000,
    targets: { http_samples_per_s: 100_000, ratio: 0.5 },
  };
  console.log(`metrics ingest via HTTP API : ${result.http_samples_per_s.toLocaleString()} samples/s`);
  console.log(`raw PostgreSQL COPY         : ${result.raw_copy_samples_per_s.toLocaleString()} samples/s`);
  console.log(`ratio (API / raw COPY)      : ${result.ratio}`);
  console.log(
    `CPU per round, node / postgres: API ${result.http_cpu_ms.node} / ${result.http_cpu_ms.postgres} ms, ` +
      `COPY ${result.copy_cpu_ms.node} / ${result.copy_cpu_ms.postgres} ms`,
  );
  console.log(
    `(${total.toLocaleString()} samples per round, batches of ${BATCH}, ${CONCURRENCY} connections, median of ${ROUNDS} rounds, ${result.cpus} CPUs, client on ${CLIENT === "thread" ? "its own thread" : "the server's thread"})`,
  );
  mkdirSync("bench/out", { recursive: true });
  writeFileSync("bench/out/metrics.json", `${JSON.stringify(result, null, 2)}\n`);
} finally {
  http.close();
  await server.close();
  await database.close();
  const c = new pg.Client({ connectionString: base });
  await c.connect();
  await c.query(`drop database if exists ${name} with (force)`);
  await c.end();
}

/** A load generator on a worker thread: POSTs the bodies over `concurrency` keep-alive connections per run(). */
async function loadThread(port: number, key: string, bodies: string[]) {
  // node:http with a keep-alive agent and Buffer bodies: the cheapest client Node has, so that as little as possible of
  // the machine goes to generating load (fetch's web streams cost about twice as much CPU per request).
  const source = `
    const http = require("node:http");
    const { parentPort, workerData: { port, key, bodies, concurrency } } = require("node:worker_threads");
    const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
    const post = (body) => new Promise((resolve, reject) => {
      const req = http.request({ host: "127.0.0.1", port, path: "/api/v1/metrics", method: "POST", agent, headers: {
        "content-type": "application/json", "x-api-key": key, "content-length": body.length } }, (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => res.statusCode === 201 ? resolve() :
          reject(new Error("POST /metrics: " + res.statusCode + " " + Buffer.concat(chunks).toString())));
      });
      req.on("error", reject);
      req.end(body);
    });
    parentPort.on("message", async () => {
      try {
        let next = 0;
        await Promise.all(Array.from({ length: concurrency }, async () => {
          while (next < bodies.length) await post(bodies[next++]);
        }));
        parentPort.postMessage({ ok: true });
      } catch (error) {
        parentPort.postMessage({ ok: false, error: String(error) });
      }
    });`;
  const worker = new Worker(source, {
    eval: true,
    workerData: { port, key, bodies: bodies.map((b) => Buffer.from(b)), concurrency: CONCURRENCY },
  });
  return {
    run: () =>
      new Promise<void>((resolve, reject) => {
        worker.once("message", (m: { ok: boolean; error?: string }) => (m.ok ? resolve() : reject(new Error(m.error))));
        worker.postMessage("run");
      }),
    close: () => worker.terminate(),
  };
}

interface Cpu {
  node: number;
  postgres: number;
}

/** CPU time (ms) of every process named postgres, from /proc (0 where /proc is not readable). */
function postgresCpuMs(): number {
  let ticks = 0;
  try {
    for (const pid of readdirSync("/proc")) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        if (!stat.includes("(postgres)")) continue;
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
      } catch {
        // the process ended meanwhile
      }
    }
  } catch {
    return 0;
  }
  return ticks * 10; // USER_HZ = 100
}

async function cpuOf(into: Cpu[], run: () => Promise<number>): Promise<number> {
  const pg0 = postgresCpuMs();
  const node0 = process.cpuUsage();
  const ms = await run();
  const node = process.cpuUsage(node0);
  into.push({ node: Math.round((node.user + node.system) / 1000), postgres: postgresCpuMs() - pg0 });
  return ms;
}

function medianCpu(xs: Cpu[]): Cpu {
  const m = (ys: number[]) => [...ys].sort((a, b) => a - b)[Math.floor(ys.length / 2)];
  return { node: m(xs.map((x) => x.node)), postgres: m(xs.map((x) => x.postgres)) };
}
