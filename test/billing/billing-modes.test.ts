import { and, eq, inArray } from "drizzle-orm";
import { expect, it } from "vitest";
import { events, instances } from "../../src/db/schema/index.js";
import { toMicros } from "../../src/lib/money.js";
import { describeEachDb, type Harness } from "../helpers/harness.js";
import { sshPublicKey, syncStatus } from "../instances/fixtures.js";
import { addCluster, addNode, job, pass, submit } from "../jobs/fleet-fixture.js";
import { chargedFor, ledgerChainErrors, operatorTenant } from "./fixtures.js";

const HOUR = 3600_000;

/** Asks for one single-GPU instance with the tenant's own key (and a fresh SSH key). */
async function deploy(h: Harness, key: string) {
  const ssh = await h.post("/api/v1/ssh-keys", { name: "ops", public_key: sshPublicKey() }, key);
  const body = { name: "on-account", planId: "GPU.H100.1x", templateSlug: "pytorch-cuda", sshKeyId: ssh.body.data.id };
  return h.post("/api/v1/instances", body, key);
}

async function balanceOf(h: Harness, tenantId: number) {
  return (await h.get(`/api/v1/billing/balance?tenant_id=${tenantId}`)).body.data;
}

async function billingEvents(h: Harness, tenantId: number) {
  const rows = await h.ctx.db
    .select()
    .from(events)
    .where(and(eq(events.tenantId, tenantId), inArray(events.type, ["billing.low_balance", "billing.auto_stopped"])));
  return rows.map((r) => r.type);
}

describeEachDb(
  "billing modes: invoiced tenants run on account, prepaid tenants are gated",
  (h) => {
    let cluster: number;
    let account: Awaited<ReturnType<typeof operatorTenant>>;
    let instanceId: string;
    let jobId: number;

    it("makes a tenant the operator creates invoiced, and a signed-up one prepaid", async () => {
      account = await operatorTenant(h());
      expect(account.tenant).toMatchObject({ billing_mode: "invoiced" });
      expect(await balanceOf(h(), account.tenantId)).toMatchObject({
        balance: "0.000000",
        billing_mode: "invoiced",
        can_deploy: true,
      });
      const customer = await h().signup();
      expect((await h().get(`/api/v1/tenants/${customer.tenantId}`)).body.data.billing_mode).toBe("prepaid");
      expect((await h().get("/api/v1/billing/balance", customer.key)).body.data).toMatchObject({
        billing_mode: "prepaid",
        can_deploy: true, // the $5 sign-up credit pays a first hour of the cheaper types
      });
      const prepaid = await operatorTenant(h(), { billing_mode: "prepaid" });
      expect(prepaid.tenant.billing_mode).toBe("prepaid");
    });

    it("refuses an unknown billing_mode with a 400 naming the field", async () => {
      const created = await h().post("/api/v1/tenants", { name: "x", gpu_quota: 1, billing_mode: "postpaid" });
      expect(created.status).toBe(400);
      expect(created.body.error).toContain("billing_mode");
      const patched = await h().patch(`/api/v1/tenants/${account.tenantId}`, { billing_mode: 1 });
      expect(patched.status).toBe(400);
      expect(patched.body.error).toContain("billing_mode");
    });

    it("schedules the invoiced tenant's jobs and deploys its instances at a zero balance", async () => {
      cluster = await addCluster(h());
      await addNode(h(), cluster, 4);
      jobId = (await submit(h(), { cluster_id: cluster, tenant_id: account.tenantId, gpu_count: 2 })).id;
      expect(await pass(h())).toMatchObject({ scheduled: 1, blocked: 0 });
      expect(await job(h(), jobId)).toMatchObject({ status: "running", block_reason: null });

      const created = await deploy(h(), account.key);
      expect(created.status).toBe(201);
      instanceId = created.body.data.id;
      await syncStatus(h());
      const [row] = await h().ctx.db.select().from(instances).where(eq(instances.id, instanceId));
      expect(row.status).toBe("running");
    });

    it("charges its usage into a negative balance and never warns or stops it", async () => {
      for (let i = 0; i < 3; i++) {
        h().clock.advance(HOUR);
        await h().runWorker("meter");
      }
      const instanceCharge = await chargedFor(h(), "instance_id", instanceId);
      const jobCharge = await chargedFor(h(), "job_id", jobId);
      expect(instanceCharge).toBeGreaterThan(0n);
      expect(jobCharge).toBeGreaterThan(0n);
      const balance = await balanceOf(h(), account.tenantId);
      expect(toMicros(balance.balance_micros)).toBe(-(instanceCharge + jobCharge));
      expect(balance.can_deploy).toBe(true);
      expect((await ledgerChainErrors(h(), account.tenantId)).errors).toEqual([]);

      const [row] = await h().ctx.db.select().from(instances).where(eq(instances.id, instanceId));
      expect(row.status).toBe("running");
      expect((await job(h(), jobId)).status).toBe("running");
      expect(await billingEvents(h(), account.tenantId)).toEqual([]);
      // Below zero it still gets new GPUs: a second job is scheduled, a second instance deployed.
      const next = await submit(h(), { cluster_id: cluster, tenant_id: account.tenantId });
      await pass(h());
      expect((await job(h(), next.id)).status).toBe("running");
      expect((await deploy(h(), account.key)).status).toBe(201);
    });

    it("gates it as soon as the operator switches it to prepaid", async () => {
      const patched = await h().patch(`/api/v1/tenants/${account.tenantId}`, { billing_mode: "prepaid" });
      expect(patched.body.data.billing_mode).toBe("prepaid");
      h().clock.advance(60_000);
      await h().runWorker("meter");
      const [row] = await h().ctx.db.select().from(instances).where(eq(instances.id, instanceId));
      expect(row.status).toBe("stopped");
      expect((await job(h(), jobId)).status).not.toBe("running");
      expect(await billingEvents(h(), account.tenantId)).toContain("billing.auto_stopped");
      const start = await h().post(`/api/v1/instances/${instanceId}/start`, undefined, account.key);
      expect(start.status).toBe(402);
      const queued = await submit(h(), { cluster_id: cluster, tenant_id: account.tenantId });
      await pass(h());
      expect((await job(h(), queued.id)).block_reason).toMatch(/^credits: /);
      // And back to invoiced: the same job runs on account again.
      await h().patch(`/api/v1/tenants/${account.tenantId}`, { billing_mode: "invoiced" });
      await pass(h());
      expect((await job(h(), queued.id)).status).toBe("running");
    });

    it("gates a prepaid tenant the operator created exactly as a signed-up one", async () => {
      const prepaid = await operatorTenant(h(), { billing_mode: "prepaid" });
      const created = await deploy(h(), prepaid.key);
      expect(created.status).toBe(402);
      expect(created.body.code).toBe("INSUFFICIENT_CREDITS");
      const waiting = await submit(h(), { cluster_id: cluster, tenant_id: prepaid.tenantId });
      await pass(h());
      expect(await job(h(), waiting.id)).toMatchObject({
        status: "blocked",
        block_reason: `credits: tenant ${prepaid.tenantId} balance is $0.000000; add credits to run jobs`,
      });
    });
  },
  { manualClock: true },
);
