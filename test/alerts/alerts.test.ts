import { and, eq, sql } from "drizzle-orm";
import { expect, it } from "vitest";
import { events, gpuAllocations, jobs, nodes } from "../../src/db/schema/index.js";
import { evaluateAlerts } from "../../src/domain/alerts/evaluate.js";
import { describeEachDb } from "../helpers/harness.js";

const T0 = new Date("2026-03-02T08:00:00Z");

describeEachDb(
  "alerts: rules, evaluation, events",
  (h) => {
    let clusterId: number;
    let nodeId: number;
    let gpuA: number;
    let gpuB: number;

    const alertEvents = async (type: string) =>
      (
        await h()
          .ctx.db.select()
          .from(events)
          .where(eq(events.type, type as any))
      ).map((e) => e.data as any);
    const eventsOf = async (ruleId: number) =>
      (await h().get(`/api/v1/alerts/events?rule_id=${ruleId}&limit=100`)).body.data as any[];
    const sample = async (gpu_id: number, utilization_pct: number, temperature_c = 50) => {
      const res = await h().post("/api/v1/metrics", { metrics: [{ gpu_id, utilization_pct, temperature_c }] });
      expect(res.status, res.text).toBe(201);
    };

    it("seeds the default rules on a fresh install", async () => {
      const res = await h().get("/api/v1/alerts/rules");
      expect(res.status).toBe(200);
      expect(res.body.data.map((r: any) => r.type).sort()).toEqual([
        "health_degraded",
        "margin_negative",
        "quota_breach",
        "utilization_low",
      ]);
      // Leave only the rules each test makes, so counts below are exact.
      for (const r of res.body.data) expect((await h().del(`/api/v1/alerts/rules/${r.id}`)).status).toBe(200);
      clusterId = (await h().post("/api/v1/clusters", { name: "a" })).body.data.id;
      nodeId = (await h().post("/api/v1/nodes", { cluster_id: clusterId, hostname: "a1" })).body.data.id;
      const gpus = (await h().post("/api/v1/gpus", { node_id: nodeId, gpus: [{ gpu_index: 0 }, { gpu_index: 1 }] }))
        .body.data;
      [gpuA, gpuB] = gpus.map((g: any) => g.id);
    });

    it("validates rules and event queries, naming the field", async () => {
      const bad = await h().post("/api/v1/alerts/rules", { name: "x", type: "cpu_high" });
      expect(bad.status).toBe(400);
      expect(bad.body.error).toContain("type");
      expect((await h().post("/api/v1/alerts/rules", { type: "quota_breach" })).body.error).toContain("name");
      expect((await h().get("/api/v1/alerts/events?limit=0")).status).toBe(400);
      expect((await h().get("/api/v1/alerts/events?limit=101")).status).toBe(400);
      expect((await h().patch("/api/v1/alerts/rules/999999", { name: "y" })).status).toBe(404);
      const { key } = await h().signup();
      expect((await h().get("/api/v1/alerts/rules", key)).status).toBe(403);
    });

    it("utilization_low opens once for an idle allocated GPU and resolves once when it gets busy", async () => {
      const rule = (
        await h().post("/api/v1/alerts/rules", {
          name: "idle",
          type: "utilization_low",
          threshold: 20,
          window_seconds: 300,
          scope: { cluster_id: clusterId },
        })
      ).body.data;
      expect(rule).toMatchObject({
        threshold: 20,
        window_seconds: 300,
        enabled: true,
        scope: { cluster_id: clusterId },
      });
      await h()
        .ctx.db.insert(gpuAllocations)
        .values({ gpuId: gpuA, nodeId, tenantId: null, jobId: 1, createdAt: new Date(T0.getTime() - 3600_000) });
      for (let i = 0; i < 5; i++) {
        await sample(gpuA, 5);
        await sample(gpuB, 0); // idle but not allocated: never alerts
        h().clock.advance(60_000);
      }
      expect(await h().runWorker("alerts")).toMatchObject({ opened: 1 });
      expect(await h().runWorker("alerts")).toMatchObject({ opened: 0, resolved: 0 });
      // Two evaluations at once (as two replicas would, without the worker lock): still one open event.
      await Promise.all([evaluateAlerts(h().ctx), evaluateAlerts(h().ctx)]);
      let list = await eventsOf(rule.id);
      expect(list).toHaveLength(1);
      expect(list[0]).toMatchObject({ subject: `gpu:${gpuA}`, status: "open", type: "utilization_low", value: 5 });
      expect((await alertEvents("alert.opened")).filter((d) => d.rule_id === rule.id)).toHaveLength(1);

      // Busy again: a sample over the threshold in the window resolves it, once.
      await sample(gpuA, 95);
      const resolvedAt = h().clock.now().toISOString();
      await h().runWorker("alerts");
      h().clock.advance(301_000);
      await sample(gpuA, 90);
      await h().runWorker("alerts");
      await h().runWorker("alerts");
      list = await eventsOf(rule.id);
      expect(list).toHaveLength(1);
      expect(list[0]).toMatchObject({ status: "resolved", resolved_at: resolvedAt });
      const resolved = (await alertEvents("alert.resolved")).filter((d) => d.rule_id === rule.id);
      expect(resolved).toHaveLength(1);
      expect(resolved[0]).toMatchObject({ subject: `gpu:${gpuA}`, rule_name: "idle" });

      // Idle again later: a new event opens (a new incident), newest first in the list.
      for (let i = 0; i < 6; i++) {
        await sample(gpuA, 1);
        h().clock.advance(60_000);
      }
      await h().runWorker("alerts");
      list = await eventsOf(rule.id);
      expect(list.map((e) => e.status)).toEqual(["open", "resolved"]);
      expect(list[0].id).toBeGreaterThan(list[1].id);
      // Deleting the rule resolves what it had open.
      await h().del(`/api/v1/alerts/rules/${rule.id}`);
      expect((await eventsOf(rule.id)).map((e) => e.status)).toEqual(["resolved", "resolved"]);
      await h().ctx.db.delete(gpuAllocations);
    });

    it("health_degraded: a stale heartbeat, a down node, an unhealthy or hot GPU", async () => {
      const rule = (
        await h().post("/api/v1/alerts/rules", {
          name: "health",
          type: "health_degraded",
          threshold: 85,
          window_seconds: 120,
        })
      ).body.data;
      const now = h().clock.now();
      await h()
        .ctx.db.update(nodes)
        .set({ lastHeartbeatAt: new Date(now.getTime() - 600_000) })
        .where(eq(nodes.id, nodeId));
      await h().ctx.db.execute(sql`update gpus set health = 'unhealthy', health_reason = 'XID 79' where id = ${gpuB}`);
      await sample(gpuA, 50, 91);
      await h().runWorker("alerts");
      await h().runWorker("alerts");
      let list = await eventsOf(rule.id);
      expect(list.map((e) => e.subject).sort()).toEqual([`gpu:${gpuA}`, `gpu:${gpuB}`, `node:${nodeId}`].sort());
      expect(list.find((e) => e.subject === `gpu:${gpuB}`).message).toContain("XID 79");
      expect(list.find((e) => e.subject === `node:${nodeId}`).severity).toBe("critical");

      // Heartbeat back, GPU healthy, cooled down: all three resolve, once.
      await h().ctx.db.update(nodes).set({ lastHeartbeatAt: now }).where(eq(nodes.id, nodeId));
      await h().ctx.db.execute(sql`update gpus set health = 'healthy' where id = ${gpuB}`);
      await sample(gpuA, 50, 60);
      await h().runWorker("alerts");
      await h().runWorker("alerts");
      list = await eventsOf(rule.id);
      expect(list.map((e) => e.status)).toEqual(["resolved", "resolved", "resolved"]);

      // A node marked down fires even with a fresh heartbeat.
      await h().ctx.db.update(nodes).set({ status: "down" }).where(eq(nodes.id, nodeId));
      await h().runWorker("alerts");
      list = await eventsOf(rule.id);
      expect(list[0]).toMatchObject({ subject: `node:${nodeId}`, status: "open" });
      await h().ctx.db.update(nodes).set({ status: "active" }).where(eq(nodes.id, nodeId));
      await h().patch(`/api/v1/alerts/rules/${rule.id}`, { enabled: false });
      await h().runWorker("alerts");
      expect((await eventsOf(rule.id)).every((e) => e.status === "resolved")).toBe(true);
    });

    it("quota_breach: a tenant at its quota, or with jobs blocked on quota", async () => {
      const rule = (await h().post("/api/v1/alerts/rules", { name: "quota", type: "quota_breach" })).body.data;
      const full = await h().signup();
      const blocked = await h().signup();
      const calm = await h().signup();
      await h().patch(`/api/v1/tenants/${full.tenantId}`, { gpu_quota: 2 });
      await h()
        .ctx.db.insert(jobs)
        .values([
          { clusterId, tenantId: full.tenantId, name: "train", gpuCount: 2, status: "running" },
          {
            clusterId,
            tenantId: blocked.tenantId,
            name: "wait",
            gpuCount: 4,
            status: "blocked",
            blockReason: "GPU quota exceeded",
          },
          { clusterId, tenantId: calm.tenantId, name: "small", gpuCount: 1, status: "running" },
        ]);
      await h().runWorker("alerts");
      await h().runWorker("alerts");
      const list = await eventsOf(rule.id);
      expect(list.map((e) => e.subject).sort()).toEqual(
        [`tenant:${full.tenantId}`, `tenant:${blocked.tenantId}`].sort(),
      );
      expect(list.find((e) => e.subject === `tenant:${full.tenantId}`)).toMatchObject({ value: 100 });
      expect(list.find((e) => e.subject === `tenant:${blocked.tenantId}`).message).toContain("blocked");
      await h()
        .ctx.db.update(jobs)
        .set({ status: "completed" })
        .where(and(eq(jobs.tenantId, full.tenantId)));
      await h().runWorker("alerts");
      const after = await eventsOf(rule.id);
      expect(after.find((e) => e.subject === `tenant:${full.tenantId}`).status).toBe("resolved");
      expect(after.find((e) => e.subject === `tenant:${blocked.tenantId}`).status).toBe("open");
    });
  },
  { manualClock: T0 },
);
