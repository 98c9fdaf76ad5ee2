import { sql } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, expect, it } from "vitest";
import { queryRows, textArray } from "../../src/db/sql.js";
import { type EventType, emitEvent, emitEvents } from "../../src/domain/events/emit.js";
import { runDeliveries } from "../../src/domain/webhooks/deliver.js";
import { describeEachDb } from "../helpers/harness.js";
import { type Receiver, startReceiver } from "./receiver.js";

describeEachDb(
  "webhook delivery",
  (h) => {
    let rx: Receiver;
    beforeAll(async () => {
      rx = await startReceiver();
    });
    afterAll(() => rx.close());

    let n = 0;
    /** A tenant with an endpoint on its own receiver path. */
    async function endpoint(events: string[] = ["*"], key?: string) {
      const tenant = key ? undefined : await h().signup();
      const path = `/hook-${++n}`;
      const res = await h().post("/api/v1/webhooks", { url: rx.url(path), events }, key ?? tenant!.key);
      expect(res.status).toBe(201);
      return { path, id: res.body.data.id as string, secret: res.body.data.secret as string, ...tenant! };
    }
    const emit = (tenantId: number | null, type: EventType, data: Record<string, unknown> = {}) =>
      h().ctx.db.transaction((tx) => emitEvent(tx, tenantId, type, data, h().clock.now()));
    const deliver = () => h().runWorker("webhook-delivery");
    const log = async (e: { id: string; key: string }) =>
      (await h().get(`/api/v1/webhooks/${e.id}/deliveries`, e.key)).body.data;

    it("signs each delivery so that the standardwebhooks library verifies it with the secret from creation", async () => {
      const e = await endpoint(["instance.running"]);
      const eventId = await emit(e.tenantId, "instance.running", { instance_id: "inst_1", status: "running" });
      await deliver();
      const [got] = rx.at(e.path);
      expect(got.headers["webhook-id"]).toBe(eventId);
      expect(got.headers["webhook-timestamp"]).toMatch(/^\d{10}$/);
      expect(got.headers["webhook-signature"]).toMatch(/^v1,/);
      const payload = new Webhook(e.secret).verify(got.body, got.headers as Record<string, string>) as any;
      expect(payload).toEqual({
        type: "instance.running",
        timestamp: h().clock.now().toISOString(),
        data: { instance_id: "inst_1", status: "running" },
      });
      expect(() =>
        new Webhook(`whsec_${Buffer.alloc(24, 1).toString("base64")}`).verify(got.body, got.headers as any),
      ).toThrow();
      const [entry] = await log(e);
      expect(entry).toMatchObject({
        event: "instance.running",
        status: "delivered",
        attempts: 1,
        last_status_code: 200,
      });
    });

    it("sends an endpoint only the events it subscribed to", async () => {
      const exact = await endpoint(["instance.running"]);
      const domain = await endpoint(["instance.*"], exact.key);
      const billing = await endpoint(["billing.low_balance"], exact.key);
      const other = await endpoint(["*"]); // another tenant: never hears the first tenant's events
      await emit(exact.tenantId, "instance.running");
      await emit(exact.tenantId, "instance.stopped");
      await deliver();
      const types = (p: string) => rx.at(p).map((r) => JSON.parse(r.body).type);
      expect(types(exact.path)).toEqual(["instance.running"]);
      expect(types(domain.path).sort()).toEqual(["instance.running", "instance.stopped"]);
      expect(types(billing.path)).toEqual([]);
      expect(types(other.path)).toEqual([]);
    });

    it("sends operator events (tenant null) to operator endpoints only", async () => {
      const ops = await endpoint(["alert.*"], h().operatorKey);
      const tenant = await endpoint(["*"]);
      await emit(null, "alert.opened", { rule: "gpu_temp" });
      await deliver();
      expect(rx.at(ops.path).map((r) => JSON.parse(r.body).type)).toEqual(["alert.opened"]);
      expect(rx.at(tenant.path)).toEqual([]);
    });

    it("retries after 5xx with growing, jittered delays and logs every attempt", async () => {
      const e = await endpoint(["instance.*"]);
      rx.on(e.path, (i) => ({ status: i < 3 ? 500 : 200 }));
      await emit(e.tenantId, "instance.failed");
      await deliver();
      let [entry] = await log(e);
      expect(entry).toMatchObject({ status: "pending", attempts: 1, last_status_code: 500 });
      expect(entry.last_error).toContain("HTTP 500");
      const wait1 = Date.parse(entry.next_attempt_at) - h().clock.now().getTime();
      expect(wait1).toBeGreaterThanOrEqual(4_000);
      expect(wait1).toBeLessThanOrEqual(6_000);
      await deliver(); // not due yet
      expect(rx.at(e.path)).toHaveLength(1);
      h().clock.advance(wait1);
      await deliver();
      [entry] = await log(e);
      expect(entry).toMatchObject({ status: "pending", attempts: 2 });
      const wait2 = Date.parse(entry.next_attempt_at) - h().clock.now().getTime();
      expect(wait2).toBeGreaterThanOrEqual(24_000);
      expect(wait2).toBeLessThanOrEqual(36_000);
      h().clock.advance(wait2);
      await deliver();
      [entry] = await log(e);
      expect(entry).toMatchObject({ status: "delivered", attempts: 3, last_status_code: 200, last_error: null });
      expect(rx.at(e.path)).toHaveLength(3);
      // Every attempt carried the same webhook-id, so a receiver can deduplicate.
      expect(new Set(rx.at(e.path).map((r) => r.headers["webhook-id"])).size).toBe(1);
      const w = (await h().get(`/api/v1/webhooks/${e.id}`, e.key)).body.data;
      expect(w.consecutive_failures).toBe(0);
    });

    it("gives up after the last retry and marks the delivery failed", async () => {
      const e = await endpoint(["instance.*"]);
      rx.on(e.path, { status: 503 });
      await emit(e.tenantId, "instance.lost");
      const started = h().clock.now().getTime();
      await deliver();
      for (let [entry] = await log(e); entry.status === "pending"; [entry] = await log(e)) {
        h().clock.set(new Date(entry.next_attempt_at));
        await deliver();
      }
      const hours = (h().clock.now().getTime() - started) / 3_600_000;
      expect(hours).toBeGreaterThan(17);
      expect(hours).toBeLessThan(27);
      const [entry] = await log(e);
      expect(entry).toMatchObject({ status: "failed", attempts: 9, last_status_code: 503 });
      expect(rx.at(e.path)).toHaveLength(9);
    });

    it("disables an endpoint that answers 410 Gone at once", async () => {
      const e = await endpoint(["instance.*"]);
      rx.on(e.path, { status: 410 });
      await emit(e.tenantId, "instance.running");
      await deliver();
      const w = (await h().get(`/api/v1/webhooks/${e.id}`, e.key)).body.data;
      expect(w.status).toBe("disabled");
      expect(w.disabled_reason).toContain("410");
      await emit(e.tenantId, "instance.stopped"); // not queued for a disabled endpoint
      await deliver();
      expect(rx.at(e.path)).toHaveLength(1);
      expect(await log(e)).toHaveLength(1);
      const test = await h().post(`/api/v1/webhooks/${e.id}/test`, undefined, e.key);
      expect(test.status).toBe(409);
    });

    it("disables an endpoint after a day of failing every delivery, and PATCH re-enables it", async () => {
      const e = await endpoint(["instance.*"]);
      rx.on(e.path, { status: 500 });
      for (let hour = 0; hour <= 25; hour++) {
        await emit(e.tenantId, "instance.running");
        await deliver();
        h().clock.advance(3_600_000);
      }
      const w = (await h().get(`/api/v1/webhooks/${e.id}`, e.key)).body.data;
      expect(w.status).toBe("disabled");
      expect(w.disabled_reason).toContain("24 hours");
      const pending = (await h().get(`/api/v1/webhooks/${e.id}/deliveries?status=pending`, e.key)).body.data;
      expect(pending).toEqual([]);
      rx.on(e.path, { status: 200 });
      const back = await h().patch(`/api/v1/webhooks/${e.id}`, { status: "active" }, e.key);
      expect(back.body.data).toMatchObject({ status: "active", consecutive_failures: 0, failing_since: null });
      await emit(e.tenantId, "instance.running");
      await deliver();
      expect((await log(e))[0]).toMatchObject({ status: "delivered" });
    });

    it("keeps delivering to others while one receiver never answers", async () => {
      const slow = await endpoint(["instance.*"]);
      const fast = await endpoint(["instance.*"]);
      rx.on(slow.path, { delayMs: 5_000 });
      await emit(slow.tenantId, "instance.running");
      await emit(fast.tenantId, "instance.running");
      const started = performance.now();
      const summary = await runDeliveries(h().ctx, { timeoutMs: 400 });
      const took = performance.now() - started;
      expect(rx.at(fast.path)[0].at - started).toBeLessThan(300);
      expect(took).toBeLessThan(2_000);
      expect(summary).toMatchObject({ delivered: 1, retrying: 1 });
      const [entry] = await log(slow);
      expect(entry).toMatchObject({ status: "pending", attempts: 1, last_status_code: null });
      expect(entry.last_error).toContain("no answer within 400 ms");
    });

    it("records connection failures and sends a ping on POST /test", async () => {
      const e = await endpoint(["billing.*"]);
      const test = await h().post(`/api/v1/webhooks/${e.id}/test`, undefined, e.key);
      expect(test.status).toBe(202);
      expect(test.body.data).toMatchObject({ event: "webhook.ping", status: "pending" });
      await deliver();
      const [got] = rx.at(e.path);
      expect(new Webhook(e.secret).verify(got.body, got.headers as any)).toMatchObject({ type: "webhook.ping" });
      // A port nobody listens on: a connection error, logged as such.
      const dead = await h().post("/api/v1/webhooks", { url: "http://127.0.0.1:9/x", events: ["*"] }, e.key);
      await h().post(`/api/v1/webhooks/${dead.body.data.id}/test`, undefined, e.key);
      await deliver();
      const [entry] = (await h().get(`/api/v1/webhooks/${dead.body.data.id}/deliveries`, e.key)).body.data;
      expect(entry.last_error).toContain("could not connect");
    });

    it("pages the delivery log newest first", async () => {
      const e = await endpoint(["instance.*"]);
      for (const t of ["instance.ordered", "instance.provisioning", "instance.running"] as const)
        await emit(e.tenantId, t);
      await deliver();
      const first = await h().get(`/api/v1/webhooks/${e.id}/deliveries?limit=2`, e.key);
      expect(first.body.meta).toMatchObject({ total: 3, has_more: true });
      expect(first.body.data.map((d: any) => d.event)).toEqual(["instance.running", "instance.provisioning"]);
      const next = await h().get(`/api/v1/webhooks/${e.id}/deliveries?limit=2&cursor=${first.body.meta.cursor}`, e.key);
      expect(next.body.data.map((d: any) => d.event)).toEqual(["instance.ordered"]);
      expect(next.body.meta.has_more).toBe(false);
    });

    it("records a pass-sized batch of events exactly as given (PostgreSQL takes it by COPY) and delivers each", async () => {
      const e = await endpoint(["job.blocked"]);
      const awkward = 'tab\there, newline\nthere, back\\slash, "quoted", \\N, ünïcode ✓';
      const list = Array.from({ length: 300 }, (_, i) => ({
        tenantId: i % 2 ? e.tenantId : null,
        type: (i % 2 ? "job.blocked" : "alert.opened") as EventType,
        data: { job_id: i, reason: i % 3 ? awkward : null, nested: { gpus: [i, i + 1] } },
      }));
      const ids = await h().ctx.db.transaction((tx) => emitEvents(tx, list, h().clock.now()));
      expect(new Set(ids).size).toBe(300);
      const rows = await queryRows<{ id: string; tenant_id: number | null; type: string; data: unknown }>(
        h().ctx.db,
        sql`select id, tenant_id, type, data from events where id = any(${textArray(ids)}::text[])`,
      );
      const byId = new Map(rows.map((r) => [r.id, r]));
      list.forEach((input, i) => {
        expect(byId.get(ids[i])).toEqual({ id: ids[i], tenant_id: input.tenantId, type: input.type, data: input.data });
      });
      for (let k = 0; k < 4 && rx.at(e.path).length < 150; k++) await deliver();
      const got = rx.at(e.path).map((r) => new Webhook(e.secret).verify(r.body, r.headers as any) as any);
      expect(got).toHaveLength(150);
      expect(got.find((p) => p.data.job_id === 1).data).toEqual(list[1].data);
    });
  },
  { manualClock: true },
);
