import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { alertRules, instances, waitlistEntries, webhookEndpoints } from "../../src/db/schema/index.js";
import { queryRows } from "../../src/db/sql.js";
import { autoStop } from "../../src/domain/billing/auto-stop.js";
import { emitEvent } from "../../src/domain/events/emit.js";
import { maintainMetrics } from "../../src/domain/metrics/maintenance.js";
import { providers } from "../../src/domain/placement/registry.js";
import { describeEachDb } from "../helpers/harness.js";
import { customer } from "../instances/fixtures.js";
import { type Receiver, startReceiver } from "../webhooks/receiver.js";

/** One poisoned item (a rule, a partition) is logged and counted; the rest of the pass goes on. */
describeEachDb("background loops isolate each item", (h) => {
  const failures = async (loop: string) => {
    const text = (await h().server.app.request("/metrics")).text();
    const match = new RegExp(`gpuplane_loop_item_failures_total\\{loop="${loop}"\\} (\\d+)`).exec(await text);
    return match ? Number(match[1]) : 0;
  };
  /** The items the loop's failure log lines named, while `run` ran. */
  const loggedFailures = async (loop: string, run: () => Promise<unknown>) => {
    const spy = vi.spyOn(h().ctx.log, "error");
    try {
      await run();
      return spy.mock.calls
        .map(([fields]) => fields as any)
        .filter((f) => f?.loop === loop)
        .map((f) => f.item);
    } finally {
      spy.mockRestore();
    }
  };
  let rx: Receiver;
  beforeAll(async () => {
    rx = await startReceiver();
  });
  afterAll(() => rx.close());

  it("an alert rule whose scope no query can take does not stop the rules after it", async () => {
    // Stored before the API bounded scopes: a tenant id above int4 fails its query every pass.
    await h()
      .ctx.db.insert(alertRules)
      .values({ name: "poisoned", type: "health_degraded", scope: { tenant_id: 99_999_999_999 }, windowSeconds: 60 });
    const cluster = await h().post("/api/v1/clusters", { name: `loops-${h().kind}` });
    const node = await h().post("/api/v1/nodes", { cluster_id: cluster.body.data.id, hostname: `loops-${h().kind}` });
    await h().ctx.db.execute(sql`update nodes set status = 'down' where id = ${node.body.data.id}`);
    const rule = await h().post("/api/v1/alerts/rules", {
      name: "nodes down",
      type: "health_degraded",
      scope: { cluster_id: cluster.body.data.id },
    });
    expect(rule.status, rule.text).toBe(201);

    const before = await failures("alerts");
    const pass = (await h().runWorker("alerts")) as { rules: number; failed: number; opened: number };
    expect(pass.failed).toBe(1);
    expect(pass.opened).toBeGreaterThanOrEqual(1);
    expect(await failures("alerts")).toBe(before + 1);
    const events = await h().get(`/api/v1/alerts/events?rule_id=${rule.body.data.id}`);
    expect(events.body.data).toEqual([
      expect.objectContaining({ subject: `node:${node.body.data.id}`, status: "open" }),
    ]);
    // And the next pass still runs (the loop is not stopped for good).
    expect(await h().runWorker("alerts")).toMatchObject({ rules: pass.rules, failed: 1 });
  });

  it("a partition that cannot be created does not stop roll-ups and retention", async () => {
    const now = h().ctx.clock.now();
    for (let d = 0; d < 8; d++) {
      const day = new Date(now.getTime() + d * 86_400_000).toISOString().slice(0, 10).replaceAll("-", "");
      // A stray table squatting on the partition's name: `create table` fails for it.
      await h().ctx.db.execute(sql.raw(`create table if not exists gpu_metrics_p${day} (squatter int)`));
    }
    const before = await failures("metrics-maintenance");
    const pass = await maintainMetrics(h().ctx);
    expect(pass.createdPartitions).toBeNull();
    expect(pass.minuteBuckets).toEqual(expect.any(Number));
    expect(pass.hourBuckets).toEqual(expect.any(Number));
    expect(pass.droppedPartitions).toEqual(expect.any(Array));
    expect(await failures("metrics-maintenance")).toBe(before + 1);
  });

  it("a waitlist entry whose stored deploy request is broken does not hold the queue up", async () => {
    const region = "eu-central-1"; // no B200s in the default catalog's region: a queue to wait in
    providers(h().ctx).simulator!.setCapacity(region, "B200", 0);
    const [t, u] = [await h().signup(), await h().signup()];
    const first = await h().post("/api/v1/waitlist", { plan_id: "GPU.B200.1x", region }, t.key);
    const second = await h().post("/api/v1/waitlist", { plan_id: "GPU.B200.1x", region }, u.key);
    expect([first.status, second.status]).toEqual([201, 201]);
    // The first entry's row is damaged: an auto-deploy with no deploy request (no API can store that).
    await h()
      .ctx.db.update(waitlistEntries)
      .set({ mode: "auto_deploy", deployRequest: null })
      .where(sql`id = ${first.body.data.id}`);
    providers(h().ctx).simulator!.setCapacity(region, "B200", 2);
    const before = await failures("waitlist");
    expect(await h().runWorker("waitlist")).toMatchObject({ notified: 1 });
    expect(await failures("waitlist")).toBe(before + 1);
    expect((await h().get(`/api/v1/waitlist/${second.body.data.id}`, u.key)).body.data.status).toBe("notified");
    providers(h().ctx).simulator!.setCapacity(region, "B200", 0);
  });

  it("a tenant whose instance cannot be stopped does not keep the other tenants running", async () => {
    const launch = async () => {
      const c = await customer(h(), "10");
      const body = { name: "run", planId: "GPU.H100.1x", templateSlug: "pytorch-cuda", sshKeyId: c.sshKeyId };
      const created = await h().post("/api/v1/instances", body, c.key);
      expect(created.status, created.text).toBe(201);
      return { tenantId: c.tenantId, id: created.body.data.id as string };
    };
    const [poisoned, healthy] = [await launch(), await launch()];
    await h().ctx.db.update(instances).set({ status: "running" }).where(eq(instances.tenantId, healthy.tenantId));
    // Launched through an upstream the operator has since unconfigured: every stop throws for this tenant.
    await h()
      .ctx.db.update(instances)
      .set({ status: "running", provider: "lambda" })
      .where(eq(instances.id, poisoned.id));
    const burn = (tenantId: number) => ({
      tenantId,
      balance: -1n,
      ratePerHour: 3_000_000n,
      reserve: 0n,
      warnedAt: null,
    });

    const before = await failures("auto-stop");
    let stopped: number[] = [];
    const logged = await loggedFailures("auto-stop", async () => {
      stopped = await autoStop(h().ctx, [burn(poisoned.tenantId), burn(healthy.tenantId)]);
    });
    expect(logged).toEqual([poisoned.tenantId]);
    expect(await failures("auto-stop")).toBe(before + 1);
    expect(stopped).toEqual([healthy.tenantId]);
    const status = async (id: string) =>
      (await h().ctx.db.select().from(instances).where(eq(instances.id, id)))[0].status;
    expect(await status(healthy.id)).toBe("stopped");
    expect(await status(poisoned.id)).toBe("running"); // its stop rolled back whole: no half-stopped row
  });

  it("an endpoint whose stored secret cannot sign does not hold up other endpoints' deliveries", async () => {
    const hook = async (path: string) => {
      const t = await h().signup();
      const res = await h().post("/api/v1/webhooks", { url: rx.url(path), events: ["*"] }, t.key);
      expect(res.status, res.text).toBe(201);
      return { tenantId: t.tenantId, id: res.body.data.id as string };
    };
    const path = `/loops-${h().kind}`;
    const [poisoned, healthy] = [await hook(`${path}-poisoned`), await hook(`${path}-healthy`)];
    // A secret damaged in storage (a bad restore, a hand edit): the signer throws before any request goes out.
    await h().ctx.db.update(webhookEndpoints).set({ secret: "whsec_%%%" }).where(eq(webhookEndpoints.id, poisoned.id));
    for (const t of [poisoned, healthy]) {
      await h().ctx.db.transaction((tx) => emitEvent(tx, t.tenantId, "instance.running", {}, h().ctx.clock.now()));
    }
    const [delivery] = await queryRows<{ id: string }>(
      h().ctx.db,
      sql`select id from webhook_deliveries where endpoint_id = ${poisoned.id}`,
    );

    const before = await failures("webhook-delivery");
    const logged = await loggedFailures("webhook-delivery", () => h().runWorker("webhook-delivery"));
    expect(logged).toEqual([delivery.id]);
    expect(await failures("webhook-delivery")).toBe(before + 1);
    expect(rx.at(`${path}-healthy`)).toHaveLength(1);
    expect(rx.at(`${path}-poisoned`)).toHaveLength(0);
  });
});
