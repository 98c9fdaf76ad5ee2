/**
 * Resold clouds against their fakes (real HTTP servers on this machine), on PostgreSQL:
 *
 * 1. create → upstream launch call: from a customer's POST /api/v1/instances entering the server to the Lambda fake
 *    receiving the launch (workers on: the create kicks the provisioning worker, which claims and launches outside the
 *    transaction). Baseline in the same run: a bare fetch of the same launch call to the same fake. Target p99 < 100 ms.
 * 2. one status-sync pass over 10,000 upstream-backed running instances across Lambda, Verda, RunPod and E2E Networks (one list
 *    call each, compared in memory, last-seen written in one statement per cloud). Baseline in the same run: the
 *    three bare list fetches of the same fakes. Target < 2 s.
 *
 *   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test node bin/run-ts.mjs bench/upstreams.ts
 */
import { randomBytes, randomUUID } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import pino from "pino";
import { loadConfig } from "../src/config.js";
import { openDatabase } from "../src/db/client.js";
import { instances, upstreamLaunches } from "../src/db/schema/index.js";
import { appendLedgerEntry } from "../src/domain/billing/ledger.js";
import { reconcileUpstreams } from "../src/domain/providers/reconcile.js";
import { newId } from "../src/lib/ids.js";
import { usdToMicros } from "../src/lib/money.js";
import { buildServer } from "../src/server.js";
import { sshPublicKey } from "../test/instances/fixtures.js";
import { E2eFake } from "../test/providers/fakes/e2e.js";
import { LambdaFake } from "../test/providers/fakes/lambda.js";
import { RunPodFake } from "../test/providers/fakes/runpod.js";
import { VerdaFake } from "../test/providers/fakes/verda.js";
import { freshDatabase } from "./fresh-database.js";

const CREATES = Number(process.env.BENCH_CREATES ?? 300);
const WARMUP = 20;
const FLEET = 10_000;
const PASSES = 5;

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const stats = (samples: number[]) => {
  const s = [...samples].sort((a, b) => a - b);
  return { p50: round(percentile(s, 50)), p99: round(percentile(s, 99)), max: round(s[s.length - 1]) };
};
const round = (n: number) => Number(n.toFixed(2));

const lambda = await new LambdaFake().start();
const verda = await new VerdaFake().start();
const runpod = await new RunPodFake().start();
const e2e = await new E2eFake().start();
// The fakes' contract checks (a zod parse of every 10,000-pod answer) would be timed inside the passes: off here.
lambda.contract = null;
runpod.contract = null;
e2e.contract = null;
const fresh = await freshDatabase("gp_bench_up");
const database = await openDatabase({ databaseUrl: fresh.url, poolSize: 10 });
const adminKey = `gpk_${randomBytes(32).toString("hex")}`;
const config = loadConfig({
  GPUPLANE_ADMIN_KEY: adminKey,
  LOG_LEVEL: "silent",
  GPUPLANE_SIMULATOR: "off",
  GPUPLANE_RATE_LIMITS: JSON.stringify({ instance_create: 1e9, write: 1e9, read: 1e9, public: 1e9, billing: 1e9 }),
  ...lambda.env(),
  ...verda.env(),
  ...runpod.env(),
  ...e2e.env(),
  GPUPLANE_E2E_LOCATIONS: "Delhi",
});
const server = await buildServer(config, {
  database,
  log: pino({ level: "silent" }),
  workers: process.env.BENCH_WORKERS !== "off",
});
const { ctx, app } = server;
server.startWorkers();
const call = async (method: string, path: string, body: unknown, key: string) => {
  const res = await app.request(path, {
    method,
    headers: { "x-api-key": key, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status >= 300) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as any).data;
};

try {
  // Lambda alone sells H100s in us-east-1 for the create benchmark (the others are synced for part 2).
  await call("POST", "/api/v1/providers/lambda/sync", undefined, adminKey);
  const session = await call(
    "POST",
    "/api/v1/auth/register",
    { email: "bench@example.com", password: "correct horse battery" },
    "",
  );
  const key = session.api_key.key as string;
  const tenantId = session.tenant.id as number;
  await ctx.db.transaction((tx) =>
    appendLedgerEntry(tx, { tenantId, kind: "grant", amountMicros: usdToMicros("1000000"), description: "bench" }),
  );
  await database.pool!.query("update tenants set gpu_quota = 1000000 where id = $1", [tenantId]);
  const sshKey = await call("POST", "/api/v1/ssh-keys", { name: "bench", public_key: sshPublicKey() }, key);

  // 1. create → launch call.
  let launchedAt = 0;
  let waiting: (() => void) | null = null;
  lambda.onRequest = (method, path) => {
    if (method === "POST" && path === "/instance-operations/launch") {
      launchedAt = performance.now();
      waiting?.();
    }
  };
  const createToLaunch: number[] = [];
  const createResponse: number[] = [];
  for (let i = 0; i < CREATES + WARMUP; i++) {
    const launched = new Promise<void>((resolve, reject) => {
      waiting = resolve;
      setTimeout(() => reject(new Error(`create ${i}: no launch call within 5 s`)), 5_000).unref();
    });
    const t0 = performance.now();
    await call(
      "POST",
      "/api/v1/instances",
      {
        name: `bench-${i}`,
        planId: "GPU.H100.1x",
        templateSlug: "pytorch-cuda",
        sshKeyId: sshKey.id,
        region: "us-east-1",
      },
      key,
    );
    const t1 = performance.now();
    await launched;
    if (i >= WARMUP) {
      createToLaunch.push(launchedAt - t0);
      createResponse.push(t1 - t0);
    }
  }
  lambda.onRequest = null;
  const bareLaunch: number[] = [];
  const keyNames = [...lambda.sshKeys.keys()].slice(0, 1); // the key gpuplane registered for the creates
  for (let i = 0; i < CREATES + WARMUP; i++) {
    const t0 = performance.now();
    const res = await fetch(`${lambda.url}/instance-operations/launch`, {
      method: "POST",
      headers: { authorization: `Bearer ${lambda.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({
        region_name: "us-east-1",
        instance_type_name: "gpu_1x_h100_pcie",
        ssh_key_names: keyNames,
        name: `bare-${i}`,
      }),
    });
    await res.json();
    if (i >= WARMUP) bareLaunch.push(performance.now() - t0);
  }
  await server.close(); // part 2 runs passes by hand

  // 2. 10,000 running instances across the four fakes, each with its gpuplane record.
  lambda.instances.clear();
  const past = Date.now() - 3_600_000;
  const rows: (typeof instances.$inferInsert)[] = [];
  const template = (await ctx.db.select().from(instances).limit(1))[0];
  for (let i = 0; i < FLEET; i++) {
    const id = newId("inst");
    const cloud = (["lambda", "verda", "runpod", "e2e"] as const)[i % 4];
    const e2eId = 500_000 + i;
    const ref =
      cloud === "runpod"
        ? randomBytes(7).toString("hex")
        : cloud === "verda"
          ? randomUUID()
          : cloud === "e2e"
            ? `${e2eId}@Delhi`
            : randomBytes(16).toString("hex");
    if (cloud === "e2e") {
      e2e.nodes.set(e2eId, {
        id: e2eId,
        name: `gp-${id}`,
        plan: "x",
        sku: "GDC3.H100-1x",
        image: "x",
        location: "Delhi",
        sshKeys: [],
        n: i,
        status: "Running",
        createdAt: past,
        readyAt: past,
        deletedAt: null,
      });
    } else if (cloud === "lambda") {
      lambda.instances.set(ref, {
        id: ref,
        name: `gp-${id}`,
        type: "gpu_1x_h100_pcie",
        region: "us-east-1",
        sshKeyNames: [],
        userData: null,
        n: i,
        createdAt: past,
        activeAt: past,
        terminatedAt: null,
      });
    } else if (cloud === "verda") {
      verda.instances.set(ref, {
        id: ref,
        hostname: `gp-${id}`.replace(/_/g, "-"),
        type: "1H100.80S.30V",
        location: "FIN-01",
        image: "x",
        n: i,
        createdAt: past,
        runningAt: past,
        status: "running",
        endedAt: null,
        deleted: false,
        pricing: "FIXED_PRICE",
        pricePerHour: "2.19",
        osVolumeId: `os-${ref}`,
        goneAt: null,
      });
    } else {
      runpod.pods.set(ref, {
        id: ref,
        name: `gp-${id}`,
        gpuTypeId: "NVIDIA H100 80GB HBM3",
        dataCenterId: "EU-RO-1",
        cloud: "SECURE",
        image: "x",
        env: {},
        ports: ["22/tcp"],
        n: i,
        status: "RUNNING",
        createdAt: past,
        readyAt: past,
        port: 40_000 + (i % 20_000),
        startedAt: past,
        billedSeconds: 0,
        billingSince: past,
        diskGb: 50,
        volumeGb: 0,
        stoppedSeconds: 0,
        stoppedSince: null,
      });
    }
    const ip =
      cloud === "lambda"
        ? `203.0.113.${1 + (i % 250)}`
        : cloud === "verda"
          ? `203.0.113.${1 + ((100 + i) % 250)}`
          : `203.0.113.${1 + ((200 + i) % 250)}`;
    rows.push({
      ...template,
      id,
      name: `fleet-${i}`,
      provider: cloud,
      providerRef: ref,
      status: "running",
      ipAddress: ip,
      sshPort: cloud === "runpod" ? 40_000 + (i % 20_000) : 22,
      sshUser: cloud === "lambda" ? "ubuntu" : "root",
      runningSince: new Date(past),
    });
  }
  // The fakes' own views must match (IP numbering by their counters): read them back and align the records.
  const listed = new Map<string, { ip: string | null; port: number | null }>();
  const e2eList = async () => {
    const all: any[] = [];
    const q = `apikey=${e2e.apiKey}&project_id=${e2e.projectId}&location=Delhi&per_page=100`;
    for (let page = 1; ; page++) {
      const answer = (await (
        await fetch(`${e2e.url}/nodes/?${q}&page_no=${page}`, { headers: { authorization: `Bearer ${e2e.authToken}` } })
      ).json()) as any;
      all.push(...answer.data);
      if (page >= answer.total_page_number) return all;
    }
  };
  const [l, v, r, e] = await Promise.all([
    fetch(`${lambda.url}/instances`, { headers: { authorization: `Bearer ${lambda.apiKey}` } }).then(
      (x) => x.json() as any,
    ),
    (async () => {
      const token = (await (
        await fetch(`${verda.url}/oauth2/token`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            grant_type: "client_credentials",
            client_id: verda.clientId,
            client_secret: verda.clientSecret,
          }),
        })
      ).json()) as any;
      return (
        await fetch(`${verda.url}/instances`, { headers: { authorization: `Bearer ${token.access_token}` } })
      ).json() as any;
    })(),
    fetch(`${runpod.url}/v2/pods`, { headers: { authorization: `Bearer ${runpod.apiKey}` } }).then(
      async (x) => ((await x.json()) as any).pods,
    ),
    e2eList(),
  ]);
  for (const i of l.data) listed.set(i.id, { ip: i.ip, port: 22 });
  for (const i of v) listed.set(i.id, { ip: i.ip, port: 22 });
  for (const p of r) listed.set(p.id, { ip: p.ssh.direct.host, port: p.ssh.direct.port });
  for (const n of e) listed.set(`${n.id}@Delhi`, { ip: n.public_ip_address, port: 22 });
  for (const row of rows) {
    const seen = listed.get(row.providerRef!)!;
    row.ipAddress = seen.ip;
    row.sshPort = seen.port;
  }
  for (let i = 0; i < rows.length; i += 1000) await ctx.db.insert(instances).values(rows.slice(i, i + 1000));
  for (let i = 0; i < rows.length; i += 1000) {
    await ctx.db
      .insert(upstreamLaunches)
      .values(rows.slice(i, i + 1000).map((x) => ({ instanceId: x.id!, candidates: [] })));
  }

  const passes: number[] = [];
  let last: unknown;
  for (let i = 0; i < PASSES + 1; i++) {
    const t0 = performance.now();
    last = await reconcileUpstreams(ctx);
    if (i > 0) passes.push(performance.now() - t0);
  }
  const bareLists: number[] = [];
  for (let i = 0; i < PASSES + 1; i++) {
    const t0 = performance.now();
    await Promise.all([
      fetch(`${lambda.url}/instances`, { headers: { authorization: `Bearer ${lambda.apiKey}` } }).then((x) => x.json()),
      fetch(`${runpod.url}/v2/pods`, { headers: { authorization: `Bearer ${runpod.apiKey}` } }).then((x) => x.json()),
      (async () => {
        const token = [...verda.tokens.keys()].at(-1)!;
        return (await fetch(`${verda.url}/instances`, { headers: { authorization: `Bearer ${token}` } })).json();
      })(),
      e2eList(),
    ]);
    if (i > 0) bareLists.push(performance.now() - t0);
  }
  const changed = (last as any[]).reduce(
    (n, s) => n + s.running + s.lost + s.failed + s.deleted + s.stopped + s.orphans,
    0,
  );

  const launch = stats(createToLaunch);
  const bare = stats(bareLaunch);
  const pass = stats(passes);
  const lists = stats(bareLists);
  const summary = {
    date: new Date().toISOString(),
    database: "postgres",
    create_to_launch_ms: launch,
    create_response_ms: stats(createResponse),
    baseline_bare_launch_fetch_ms: bare,
    create_ratio_p99: round(launch.p99 / bare.p99),
    create_target_p99_ms: 100,
    create_meets_target: launch.p99 < 100,
    sync_instances: FLEET,
    sync_pass_ms: pass,
    baseline_bare_list_fetches_ms: lists,
    sync_ratio_p50: round(pass.p50 / lists.p50),
    sync_changes_in_steady_pass: changed,
    sync_target_ms: 2000,
    sync_meets_target: pass.max < 2000,
  };
  console.log(
    `create → Lambda launch call: p50 ${launch.p50} ms, p99 ${launch.p99} ms over ${CREATES} creates; ` +
      `(create's own response p50 ${stats(createResponse).p50} ms, p99 ${stats(createResponse).p99} ms); bare launch fetch p50 ${bare.p50} ms, p99 ${bare.p99} ms (ratio p99 ${summary.create_ratio_p99}×); ` +
      `target p99 < 100 ms: ${summary.create_meets_target ? "met" : "MISSED"}\n` +
      `status-sync pass over ${FLEET} instances (4 clouds): p50 ${pass.p50} ms, max ${pass.max} ms; ` +
      `bare list fetches p50 ${lists.p50} ms (ratio ${summary.sync_ratio_p50}×); changes in a steady pass: ${changed}; ` +
      `target < 2 s: ${summary.sync_meets_target ? "met" : "MISSED"}`,
  );
  mkdirSync("bench/out", { recursive: true });
  writeFileSync("bench/out/upstreams.json", `${JSON.stringify(summary, null, 2)}\n`);
} finally {
  await server.close().catch(() => {});
  await database.close();
  await fresh.drop();
  await Promise.all([lambda.stop(), verda.stop(), runpod.stop(), e2e.stop()]);
}
