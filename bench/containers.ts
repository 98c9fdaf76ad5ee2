/**
 * Containers on the node agent, with real podman and the local test image (scripts/build-test-image.sh):
 *   1. launch → SSH answering: from POST /api/v1/deployments/clusters to the API showing `running` with an SSH port
 *      whose server sends its banner, p50/p99 over 20 launches, each deleted before the next. Baseline in the same
 *      run: `podman run` of the same image and the same sshd entry command, timed to the banner, 20 times.
 *      Target: gpuplane adds under 2 s.
 *   2. the agent's resident memory (VmRSS) with 50 instance containers running. Target: under 100 MB.
 * The embedded default: PGlite in a temp folder, workers off (the agent reports; nothing else is needed).
 *
 *   npm run bench -- containers
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { serve } from "@hono/node-server";
import pino from "pino";
import { sshAnswers } from "../packages/agent/src/runtime/probe.js";
import { sshEntry } from "../packages/agent/src/runtime/ssh-entry.js";
import { loadConfig } from "../src/config.js";
import { openDatabase } from "../src/db/client.js";
import { appendLedgerEntry } from "../src/domain/billing/ledger.js";
import { usdToMicros } from "../src/lib/money.js";
import { buildServer } from "../src/server.js";
import { podmanEnv, podmanReady, TEST_IMAGE } from "../test/agent/podman.js";
import { sshPublicKey } from "../test/instances/fixtures.js";

const LAUNCHES = 20;
const RSS_CONTAINERS = 50;
const GPUS = RSS_CONTAINERS;

const ready = podmanReady();
if (ready !== true) {
  console.log(`containers: skipped (${ready})`);
  process.exit(0);
}
const env = podmanEnv();
const run = randomBytes(3).toString("hex");
const dir = mkdtempSync(join(tmpdir(), "gpuplane-bench-ct-"));
const kind = `bench${run}.gpuplane.dev/gpu`;
const prefix = `gpb${run}`;
const cdiFile = `/var/run/cdi/gpuplane-bench-${run}.json`;
const firstPort = 30000 + Math.floor(Math.random() * 200) * 100;
const podman = (...args: string[]) => execFileSync("podman", args, { env, encoding: "utf8" }).trim();
const fakeSmi = resolve(import.meta.dirname, "../packages/agent/test/fake-nvidia-smi");
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const stats = (samples: number[]) => {
  const s = [...samples].sort((a, b) => a - b);
  return { p50: Math.round(percentile(s, 50)), p99: Math.round(percentile(s, 99)) };
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(probe: () => Promise<boolean>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await sleep(25);
  }
}

const adminKey = `gpk_${randomBytes(32).toString("hex")}`;
const config = loadConfig({
  GPUPLANE_ADMIN_KEY: adminKey,
  GPUPLANE_WORKERS: "off",
  GPUPLANE_SIMULATOR: "off",
  LOG_LEVEL: "silent",
  GPUPLANE_RATE_LIMITS: JSON.stringify({
    instance_create: 1e9,
    instance_action: 1e9,
    write: 1e9,
    read: 1e9,
    public: 1e9,
    billing: 1e9,
  }),
});
const database = await openDatabase({ dataDir: join(dir, "db") });
const server = await buildServer(config, { database, log: pino({ level: "silent" }), workers: false });
const http = serve({ fetch: server.app.fetch, port: 0, hostname: "127.0.0.1" });
await new Promise((r) => http.once("listening", r));
const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
const api = async (method: string, path: string, body?: unknown, key = adminKey) => {
  const res = await fetch(`${url}/api/v1${path}`, {
    method,
    headers: { "x-api-key": key, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as { data: any; error?: string };
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${json.error}`);
  return json.data;
};

let agent: ChildProcess | undefined;
const baselineNames: string[] = [];
try {
  const uuids = execFileSync(join(fakeSmi, "nvidia-smi"), ["-L"], {
    env: { ...process.env, FAKE_NVIDIA_SMI_GPUS: String(GPUS) },
    encoding: "utf8",
  })
    .trim()
    .split("\n")
    .map((l) => /UUID: ([^)]+)\)/.exec(l)![1]);
  writeFileSync(
    cdiFile,
    JSON.stringify({
      cdiVersion: "0.5.0",
      kind,
      devices: uuids.map((uuid, i) => ({
        name: uuid,
        containerEdits: { deviceNodes: [{ path: `/dev/gpuplane-gpu${i}`, hostPath: "/dev/null" }] },
      })),
    }),
  );

  // Baseline: the runtime alone, same image, same entry command, same limits, to the SSH banner.
  const keyFile = join(dir, "authorized_keys");
  writeFileSync(keyFile, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBenchBenchBenchBenchBenchBenchBenchBench bench\n");
  const baseline: number[] = [];
  for (let i = 0; i < LAUNCHES; i++) {
    const name = `${prefix}-baseline-${i}`;
    baselineNames.push(name);
    const port = firstPort + 90;
    const t0 = performance.now();
    podman(
      ...["run", "--detach", "--name", name, "--init", "--device", `${kind}=${uuids[0]}`, "--pids-limit", "4096"],
      ...["--publish", `127.0.0.1:${port}:22`, "--volume", `${keyFile}:/run/gpuplane/authorized_keys:ro`],
      ...["--entrypoint", sshEntry.entrypoint, TEST_IMAGE, ...sshEntry.command],
    );
    await until(() => sshAnswers("127.0.0.1", port, 500));
    baseline.push(performance.now() - t0);
    podman("rm", "-f", "-t", "0", name);
  }

  // gpuplane: a region, a cluster, the agent joined with GPUS fake GPUs, the catalog image set to the test image.
  const region = `BENCH-${run}`.toUpperCase();
  await api("POST", "/regions", { id: region, name: "Bench" });
  const cluster = await api("POST", "/clusters", { name: `bench-${run}`, region });
  await api("PATCH", "/images/ubuntu-22.04-cuda-12.4-cluster", { oci_ref: TEST_IMAGE });
  const token = (await api("POST", `/clusters/${cluster.id}/join-tokens`, {})).token;
  agent = spawn(
    process.execPath,
    [
      resolve(import.meta.dirname, "../packages/agent/bin/gpuplane-agent.mjs"),
      ...["--server", url, "--token", token, "--state-dir", join(dir, "agent"), "--ip", "127.0.0.1"],
      ...["--interval", "10", "--wait", "30", "--runtime", "podman", "--cdi-kind", kind, "--name-prefix", prefix],
      ...["--ssh-ports", `${firstPort}-${firstPort + 80}`, "--publish-ip", "127.0.0.1", "--image", TEST_IMAGE],
    ],
    { env: { ...env, PATH: `${fakeSmi}:${process.env.PATH}`, FAKE_NVIDIA_SMI_GPUS: String(GPUS) }, stdio: "ignore" },
  );
  const account = await api(
    "POST",
    "/auth/register",
    { email: `bench-${run}@example.com`, password: "correct horse battery" },
    "",
  );
  const tenantKey: string = account.api_key.key;
  const tenantId: number = account.tenant.id;
  await api("PATCH", `/tenants/${tenantId}`, { gpu_quota: GPUS });
  await database.db.transaction((tx) =>
    appendLedgerEntry(tx, { tenantId, kind: "grant", amountMicros: usdToMicros("100000"), description: "bench" }),
  );
  const sshKey = await api("POST", "/ssh-keys", { name: "bench", public_key: sshPublicKey() }, tenantKey);
  // Joined once the region offers the agent's GPUs.
  await until(async () => {
    const offers = await api("GET", `/gpus/available?region=${region}&gpu_model=H100`, undefined, tenantKey);
    return (offers.find((o: any) => o.cluster_type === "1H100.80S.30V")?.regions[0]?.available_count ?? 0) >= GPUS;
  }, 30_000);
  const deploy = () =>
    api(
      "POST",
      "/deployments/clusters",
      {
        ...{ cluster_type: "1H100.80S.30V", image: "ubuntu-22.04-cuda-12.4-cluster", hostname: "b" },
        ...{ ssh_key_ids: [sshKey.id], location: region },
      },
      tenantKey,
    );
  const upAndAnswering = async (id: string) => {
    let port = 0;
    await until(async () => {
      const d = await api("GET", `/deployments/${id}`, undefined, tenantKey);
      if (d.status === "failed") throw new Error(`instance failed: ${d.status_reason}`);
      if (d.status !== "running") return false;
      port = Number(/-p (\d+)/.exec(d.ssh_command)![1]);
      return true;
    });
    await until(() => sshAnswers("127.0.0.1", port, 500));
  };
  // One launch to warm the agent's join and the database before timing.
  const warm = await deploy();
  await upAndAnswering(warm.id);
  await api("DELETE", `/deployments/${warm.id}`, undefined, tenantKey);

  const launches: number[] = [];
  for (let i = 0; i < LAUNCHES; i++) {
    const t0 = performance.now();
    const d = await deploy();
    await upAndAnswering(d.id);
    launches.push(performance.now() - t0);
    await api("DELETE", `/deployments/${d.id}`, undefined, tenantKey);
    await until(async () => !podman("ps", "-a", "-q", "--filter", `name=${prefix}-i-${d.id}`));
  }
  const g = stats(launches);
  const b = stats(baseline);
  console.log(`launch → SSH answering, ${LAUNCHES} launches (ms):`);
  console.log(`  podman run + sshd alone   p50 ${b.p50}  p99 ${b.p99}`);
  console.log(`  gpuplane (API → agent)    p50 ${g.p50}  p99 ${g.p99}`);
  console.log(`  added by gpuplane         p50 ${g.p50 - b.p50}  p99 ${g.p99 - b.p99}  (target < 2000)`);
  console.log(`  ratio gpuplane/baseline   p50 ${(g.p50 / b.p50).toFixed(2)}`);

  // The agent's memory with RSS_CONTAINERS containers running.
  const rssOf = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${agent!.pid}/status`, "utf8"))![1]) / 1024;
  const idle = rssOf();
  const ids: string[] = [];
  for (let i = 0; i < RSS_CONTAINERS; i++) ids.push((await deploy()).id);
  for (const id of ids) await upAndAnswering(id);
  await sleep(3000); // a few watch passes over all of them
  const loaded = rssOf();
  console.log(
    `agent resident memory: ${idle.toFixed(1)} MB with none, ${loaded.toFixed(1)} MB with ${RSS_CONTAINERS} running (target < 100)`,
  );
  for (const id of ids) await api("DELETE", `/deployments/${id}`, undefined, tenantKey);
  await until(async () => !podman("ps", "-a", "-q", "--filter", `label=gpuplane.agent=${prefix}`), 120_000);
} catch (error) {
  console.error(`containers bench failed: ${(error as Error).stack}`);
  process.exitCode = 1;
} finally {
  if (agent && agent.exitCode === null) {
    const exited = new Promise((r) => agent!.once("exit", r));
    agent.kill("SIGTERM");
    await exited;
  }
  for (const id of podman("ps", "-a", "-q", "--filter", `label=gpuplane.agent=${prefix}`).split("\n").filter(Boolean)) {
    podman("rm", "-f", "-t", "0", id);
  }
  for (const name of baselineNames) execFileSync("podman", ["rm", "-f", "-t", "0", name], { env, stdio: "ignore" });
  rmSync(cdiFile, { force: true });
  await new Promise((r) => http.close(r));
  await server.close();
  await database.close();
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}
