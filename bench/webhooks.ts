/**
 * Webhook latency: from an instance's status change committing (UPDATE instances + emitEvent in one transaction) to
 * the signed webhook arriving at a local receiver, for 1,000 instances (100 tenants × 10, one endpoint each), with
 * the real wake-up path: NOTIFY at commit → listener → kick → delivery loop → claim → signed POST.
 * Baseline in the same run: a bare fetch POST of the same body from this process to the same receiver.
 * Two loads: paced (the 1,000 changes spread over ~5 s) and a burst (all 1,000 as fast as 16 writers can commit).
 * Target: p99 < 100 ms (paced).
 *
 *   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run bench -- webhooks
 *   BENCH_DB=pglite npm run bench -- webhooks      # the embedded database instead
 */
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { eq } from "drizzle-orm";
import pg from "pg";
import pino from "pino";
import { loadConfig } from "../src/config.js";
import type { AppContext } from "../src/context.js";
import { type Database, openDatabase } from "../src/db/client.js";
import { instances, tenants, webhookEndpoints } from "../src/db/schema/index.js";
import { emitEvent } from "../src/domain/events/emit.js";
import { newWebhookSecret } from "../src/domain/webhooks/endpoints.js";
import { EventBus } from "../src/lib/bus.js";
import { systemClock } from "../src/lib/clock.js";
import { newId } from "../src/lib/ids.js";
import { WorkerRunner } from "../src/workers/runner.js";
import { webhookDelivery } from "../src/workers/webhook-delivery.js";

const base =
  process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const kind = process.env.BENCH_DB === "pglite" ? "pglite" : "postgres";
const INSTANCES = Number(process.env.BENCH_INSTANCES ?? 1000);
const PER_TENANT = 10;

// ---- a receiver that timestamps arrivals by instance id
const arrivals = new Map<string, number>();
const receiver = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const at = performance.now();
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    arrivals.set(body.data.instance_id ?? body.data.key, at);
    res.writeHead(204).end();
  });
});
await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
const url = (path: string) => `http://127.0.0.1:${(receiver.address() as AddressInfo).port}${path}`;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const fmt = (ms: number) => `${ms.toFixed(2)} ms`;

async function freshDatabase(): Promise<{ database: Database; drop(): Promise<void> }> {
  if (kind === "pglite") {
    const database = await openDatabase({ dataDir: "memory://" });
    return { database, drop: () => database.close() };
  }
  const name = `gp_bench_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const u = new URL(base);
  u.pathname = `/${name}`;
  const database = await openDatabase({ databaseUrl: u.toString(), poolSize: 20 });
  return {
    database,
    async drop() {
      await database.close();
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

async function baseline(n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const key = `baseline-${i}`;
    const body = JSON.stringify({ type: "instance.running", timestamp: new Date().toISOString(), data: { key } });
    const t0 = performance.now();
    const res = await fetch(url("/baseline"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    await res.body?.cancel();
    out.push(arrivals.get(key)! - t0);
  }
  return out;
}

const { database, drop } = await freshDatabase();
let runner: WorkerRunner | undefined;
const ctx: AppContext = {
  database,
  db: database.db,
  // The receiver listens on 127.0.0.1.
  config: loadConfig({ LOG_LEVEL: "silent", GPUPLANE_WORKERS: "on", GPUPLANE_WEBHOOK_ALLOW_PRIVATE: "on" }),
  clock: systemClock,
  log: pino({ level: "silent" }),
  kick: (name) => runner?.kick(name),
  services: {} as AppContext["services"], // delivery needs no provider
  bus: new EventBus(),
};
try {
  // Seed: tenants, one endpoint each (instance.*), their instances provisioning.
  const now = new Date();
  const tenantRows = await ctx.db
    .insert(tenants)
    .values(Array.from({ length: INSTANCES / PER_TENANT }, (_, i) => ({ name: `bench-${i}`, gpuQuota: 1000 })))
    .returning({ id: tenants.id });
  await ctx.db.insert(webhookEndpoints).values(
    tenantRows.map((t) => ({
      id: newId("wh"),
      tenantId: t.id,
      url: url(`/t${t.id}`),
      events: ["instance.*"],
      secret: newWebhookSecret(),
      createdAt: now,
    })),
  );
  const ids: { id: string; tenantId: number }[] = [];
  const rows = tenantRows.flatMap((t) =>
    Array.from({ length: PER_TENANT }, () => {
      const id = newId("inst");
      ids.push({ id, tenantId: t.id });
      return {
        id,
        tenantId: t.id,
        name: id,
        instanceTypeId: "h100-80gb-1x",
        requestedType: "GPU.H100.1x",
        imageId: "pytorch-cuda",
        regionId: "FIN-01",
        gpuCount: 1,
        gpuModel: "H100",
        pricePerHourMicros: 2_490_000n,
        billingGranularitySeconds: 1,
        provider: "simulator",
        status: "provisioning",
        sshKeyIds: [],
        sshPublicKeys: [],
      };
    }),
  );
  for (let i = 0; i < rows.length; i += 500) await ctx.db.insert(instances).values(rows.slice(i, i + 500));

  runner = new WorkerRunner(ctx, [webhookDelivery]);
  runner.start();
  await runner.runOnce("webhook-delivery"); // starts the listener (first tick) before measuring
  const base0 = await baseline(200); // warm-up: connections, JIT
  void base0;

  /** One status change as the instances area makes it: the row and its event commit together. */
  const change = async (inst: { id: string; tenantId: number }, status: "running" | "stopped") => {
    await ctx.db.transaction(async (tx) => {
      const at = ctx.clock.now();
      await tx.update(instances).set({ status, updatedAt: at }).where(eq(instances.id, inst.id));
      await emitEvent(tx, inst.tenantId, `instance.${status}`, { instance_id: inst.id, status }, at);
    });
    return performance.now();
  };

  async function measure(status: "running" | "stopped", writers: number, gapMs: number) {
    arrivals.clear();
    const committed = new Map<string, number>();
    let next = 0;
    await Promise.all(
      Array.from({ length: writers }, async () => {
        while (next < ids.length) {
          const inst = ids[next++];
          committed.set(inst.id, await change(inst, status));
          if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
        }
      }),
    );
    const deadline = performance.now() + 60_000;
    while (arrivals.size < ids.length && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const lat = ids.map((i) => (arrivals.get(i.id) ?? Number.NaN) - committed.get(i.id)!);
    const missing = lat.filter(Number.isNaN).length;
    return { lat: lat.filter((x) => !Number.isNaN(x)), missing };
  }

  const paced = await measure("running", 1, Number(process.env.BENCH_GAP_MS ?? 5));
  const burst = await measure("stopped", 16, 0);
  const bare = await baseline(INSTANCES);

  const b50 = pct(bare, 50);
  const b99 = pct(bare, 99);
  console.log(`webhooks on ${kind}: ${INSTANCES} instances, ${tenantRows.length} endpoints`);
  console.log(`  baseline (bare POST to the receiver)   p50 ${fmt(b50)}  p99 ${fmt(b99)}`);
  for (const [name, r] of [
    ["paced (1 writer, 5 ms apart)", paced],
    ["burst (16 writers, no pause)", burst],
  ] as const) {
    const p50 = pct(r.lat, 50);
    const p99 = pct(r.lat, 99);
    console.log(
      `  ${name.padEnd(38)} p50 ${fmt(p50)}  p99 ${fmt(p99)}  max ${fmt(Math.max(...r.lat))}` +
        `  ratio p50 ${(p50 / b50).toFixed(1)}x p99 ${(p99 / b99).toFixed(1)}x${r.missing ? `  MISSING ${r.missing}` : ""}`,
    );
  }
  const ok = pct(paced.lat, 99) < 100 && !paced.missing && !burst.missing;
  console.log(`  target paced p99 < 100 ms: ${ok ? "met" : "NOT met"}`);
} finally {
  await runner?.stop();
  await drop();
  receiver.close();
}
