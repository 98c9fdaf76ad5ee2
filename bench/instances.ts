/**
 * Instance create latency: the time from a POST /api/v1/deployments/clusters entering the server to the provider
 * being asked for the instance (the simulator's provision call is instrumented), over 1,000 creates by 10 tenants,
 * on PostgreSQL, through the whole HTTP stack (auth, rate limit, validation, catalog, SSH keys, quota, balance,
 * capacity, insert, event). Baseline in the same run: a bare INSERT of the same instance row. Target: p99 < 100 ms.
 *
 *   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test node bin/run-ts.mjs bench/instances.ts
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import pino from "pino";
import { loadConfig } from "../src/config.js";
import { openDatabase } from "../src/db/client.js";
import { instances } from "../src/db/schema/index.js";
import { appendLedgerEntry } from "../src/domain/billing/ledger.js";
import { newId } from "../src/lib/ids.js";
import { usdToMicros } from "../src/lib/money.js";
import { buildServer } from "../src/server.js";
import { sshPublicKey } from "../test/instances/fixtures.js";
import { freshDatabase } from "./fresh-database.js";

const INSTANCES = 1000;
const TENANTS = 10;
const WARMUP = 20;

const fresh = await freshDatabase("gp_bench_inst");
const database = await openDatabase({ databaseUrl: fresh.url, poolSize: 10 });
const adminKey = `gpk_${randomBytes(32).toString("hex")}`;
const config = loadConfig({
  GPUPLANE_ADMIN_KEY: adminKey,
  GPUPLANE_WORKERS: "off",
  LOG_LEVEL: "silent",
  GPUPLANE_RATE_LIMITS: JSON.stringify({ instance_create: 1e9, write: 1e9, read: 1e9, public: 1e9, billing: 1e9 }),
});
const server = await buildServer(config, { database, log: pino({ level: "silent" }), workers: false });
const { ctx, app } = server;

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const stats = (samples: number[]) => {
  const s = [...samples].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p99: percentile(s, 99), max: s[s.length - 1] };
};

try {
  const simulator = ctx.services.providers.simulator!;
  simulator.setCapacity("FIN-01", "H100", 1_000_000);
  let asked = 0;
  const provision = simulator.provision.bind(simulator);
  simulator.provision = async (...args) => {
    asked = performance.now();
    return provision(...args);
  };

  const post = async (path: string, body: unknown, key: string) => {
    const res = await app.request(path, {
      method: "POST",
      headers: { "x-api-key": key, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (res.status >= 300) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return ((await res.json()) as any).data;
  };
  const customers: { key: string; sshKeyId: string; tenantId: number }[] = [];
  for (let t = 0; t < TENANTS; t++) {
    const session = await post(
      "/api/v1/auth/register",
      { email: `bench-${t}@example.com`, password: "correct horse battery" },
      "",
    );
    const key = session.api_key.key as string;
    const tenantId = session.tenant.id as number;
    await ctx.db.transaction((tx) =>
      appendLedgerEntry(tx, { tenantId, kind: "grant", amountMicros: usdToMicros("100000"), description: "bench" }),
    );
    await database.pool!.query("update tenants set gpu_quota = 100000 where id = $1", [tenantId]);
    const sshKey = await post("/api/v1/ssh-keys", { name: "bench", public_key: sshPublicKey() }, key);
    customers.push({ key, sshKeyId: sshKey.id, tenantId });
  }

  const createToProvider: number[] = [];
  const createTotal: number[] = [];
  for (let i = 0; i < INSTANCES + WARMUP; i++) {
    const c = customers[i % TENANTS];
    const t0 = performance.now();
    await post(
      "/api/v1/deployments/clusters",
      {
        cluster_type: "1H100.80S.30V",
        image: "ubuntu-22.04-cuda-12.4-cluster",
        hostname: `bench-${i}`,
        ssh_key_ids: [c.sshKeyId],
        location: "FIN-01",
      },
      c.key,
    );
    const t2 = performance.now();
    if (i >= WARMUP) {
      createToProvider.push(asked - t0);
      createTotal.push(t2 - t0);
    }
  }

  // Baseline: the same row, inserted bare (no HTTP, no checks, no event), one statement per row.
  const [template] = await ctx.db.select().from(instances).limit(1);
  const baseline: number[] = [];
  for (let i = 0; i < INSTANCES + WARMUP; i++) {
    const row = { ...template, id: newId("inst"), name: `bare-${i}` };
    const t0 = performance.now();
    await ctx.db.insert(instances).values(row);
    if (i >= WARMUP) baseline.push(performance.now() - t0);
  }

  const toProvider = stats(createToProvider);
  const total = stats(createTotal);
  const bare = stats(baseline);
  const round = (n: number) => Number(n.toFixed(2));
  const summary = {
    instances: INSTANCES,
    tenants: TENANTS,
    database: "postgres",
    create_to_provider_ms: { p50: round(toProvider.p50), p99: round(toProvider.p99), max: round(toProvider.max) },
    create_response_ms: { p50: round(total.p50), p99: round(total.p99) },
    baseline_bare_insert_ms: { p50: round(bare.p50), p99: round(bare.p99) },
    ratio_p50: round(toProvider.p50 / bare.p50),
    ratio_p99: round(toProvider.p99 / bare.p99),
    target_p99_ms: 100,
    meets_target: toProvider.p99 < 100,
  };
  console.log(
    `create → provider asked: p50 ${summary.create_to_provider_ms.p50} ms, p99 ${summary.create_to_provider_ms.p99} ms ` +
      `over ${INSTANCES} creates (full response p50 ${summary.create_response_ms.p50} ms, p99 ${summary.create_response_ms.p99} ms)\n` +
      `baseline bare INSERT of the same row: p50 ${summary.baseline_bare_insert_ms.p50} ms, p99 ${summary.baseline_bare_insert_ms.p99} ms\n` +
      `ratio p50 ${summary.ratio_p50}×, p99 ${summary.ratio_p99}×; target p99 < 100 ms: ${summary.meets_target ? "met" : "MISSED"}`,
  );
  mkdirSync("bench/out", { recursive: true });
  writeFileSync("bench/out/instances.json", `${JSON.stringify(summary, null, 2)}\n`);
} finally {
  await server.close();
  await database.close();
  await fresh.drop();
}
