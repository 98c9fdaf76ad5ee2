import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AppContext } from "../../src/context.js";
import { type Database, openDatabase } from "../../src/db/client.js";
import { emitEvent } from "../../src/domain/events/emit.js";
import { runDeliveries } from "../../src/domain/webhooks/deliver.js";
import { ensureListening } from "../../src/domain/webhooks/wakeup.js";
import { createHarness, dbKinds, describeEachDb, type Harness } from "../helpers/harness.js";
import { type Receiver, startReceiver } from "./receiver.js";

describe.runIf(dbKinds.includes("postgres"))("webhook delivery across replicas [postgres]", () => {
  let h: Harness;
  let rx: Receiver;
  let second: Database;
  beforeAll(async () => {
    h = await createHarness("postgres");
    rx = await startReceiver();
    second = await openDatabase({ databaseUrl: h.dbUrl!, migrate: false, poolSize: 10 });
  });
  afterAll(async () => {
    await second?.close();
    await rx?.close();
    await h?.close();
  });

  it("delivers each event exactly once when two replicas' loops race on the same outbox", async () => {
    const { key, tenantId } = await h.signup();
    const paths = ["/a", "/b", "/c"];
    for (const path of paths) {
      expect((await h.post("/api/v1/webhooks", { url: rx.url(path), events: ["instance.*"] }, key)).status).toBe(201);
    }
    for (let i = 0; i < 100; i++) {
      await h.ctx.db.transaction((tx) => emitEvent(tx, tenantId, "instance.running", { i }, h.ctx.clock.now()));
    }
    const replicaB: AppContext = { ...h.ctx, database: second, db: second.db };
    // Straight to the loop body, bypassing the per-worker advisory lock: only SKIP LOCKED keeps them apart.
    const [a, b] = await Promise.all([
      runDeliveries(h.ctx, { concurrency: 8 }),
      runDeliveries(replicaB, { concurrency: 8 }),
    ]);
    expect(a.delivered + b.delivered).toBe(300);
    expect(rx.received).toHaveLength(300);
    const seen = new Set(rx.received.map((r) => `${r.path} ${r.headers["webhook-id"]}`));
    expect(seen.size).toBe(300);
    expect(a.delivered).toBeGreaterThan(0);
    expect(b.delivered).toBeGreaterThan(0);
  });
});

describeEachDb("webhook delivery wake-up", (h) => {
  it("is woken by the commit of the transaction that emitted, not before", async () => {
    const kicks: string[] = [];
    const ctx: AppContext = { ...h().ctx, kick: (name) => kicks.push(name) };
    await ensureListening(ctx);
    const { tenantId, key } = await h().signup();
    await h().post("/api/v1/webhooks", { url: "https://example.test/h", events: ["*"] }, key);
    await h().ctx.db.transaction(async (tx) => {
      await emitEvent(tx, tenantId, "instance.running", {}, h().ctx.clock.now());
      await new Promise((r) => setTimeout(r, 100));
      expect(kicks).toEqual([]);
    });
    for (let i = 0; i < 100 && !kicks.length; i++) await new Promise((r) => setTimeout(r, 10));
    expect(kicks).toContain("webhook-delivery");
    // An event no endpoint wants queues nothing and wakes nobody.
    kicks.length = 0;
    await h().ctx.db.transaction((tx) => emitEvent(tx, null, "node.down", {}, h().ctx.clock.now()));
    await new Promise((r) => setTimeout(r, 200));
    expect(kicks).toEqual([]);
  });
});
