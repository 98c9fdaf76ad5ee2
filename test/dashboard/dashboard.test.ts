import { expect, it } from "vitest";
import { gpuAllocations, instances, jobs, ledgerEntries } from "../../src/db/schema/index.js";
import { describeEachDb } from "../helpers/harness.js";

const T0 = new Date("2026-03-15T12:00:00Z");
const ago = (ms: number) => new Date(T0.getTime() - ms);
const H = 3600_000;

describeEachDb(
  "dashboard: KPIs, fleet, revenue, leakage, tenant usage",
  (h) => {
    let tenantA: number;
    let tenantKey: string;
    let gpus: number[];
    let nodeId: number;

    it("sets up a fleet, workloads and charges with known amounts", async () => {
      const cluster = (await h().post("/api/v1/clusters", { name: "d", region: "eu-1" })).body.data.id;
      nodeId = (await h().post("/api/v1/nodes", { cluster_id: cluster, hostname: "d1" })).body.data.id;
      const body = {
        node_id: nodeId,
        gpus: [0, 1, 2, 3].map((i) => ({ gpu_index: i, model: "NVIDIA H100 80GB HBM3" })),
      };
      gpus = (await h().post("/api/v1/gpus", body)).body.data.map((g: any) => g.id);
      const a = await h().signup();
      tenantA = a.tenantId;
      tenantKey = a.key;
      await h().signup();
      const db = h().ctx.db;
      // A running instance at $2/GPU-hour, metered until 10 minutes ago: stale (two meter intervals are 30 s).
      await db.insert(instances).values({
        id: "inst_a",
        tenantId: tenantA,
        name: "a",
        instanceTypeId: "h100x1",
        requestedType: "GPU.H100.1x",
        imageId: "ubuntu",
        regionId: "eu-1",
        gpuCount: 1,
        gpuModel: "H100",
        pricePerHourMicros: 2_000_000n,
        billingGranularitySeconds: 1,
        provider: "fleet",
        status: "running",
        sshKeyIds: [],
        sshPublicKeys: [],
        runningSince: ago(3 * H),
        meteredUntil: ago(10 * 60_000),
      });
      const [job] = await db
        .insert(jobs)
        .values({
          clusterId: cluster,
          tenantId: tenantA,
          name: "j",
          gpuType: "H100",
          status: "running",
          startedAt: ago(H),
        })
        .returning();
      await db.insert(gpuAllocations).values([
        { gpuId: gpus[0], nodeId, tenantId: tenantA, instanceId: "inst_a", createdAt: ago(3 * H) }, // paying
        { gpuId: gpus[1], nodeId, tenantId: tenantA, instanceId: "inst_gone", createdAt: ago(2 * H) }, // no instance
        { gpuId: gpus[2], nodeId, tenantId: tenantA, jobId: job.id, createdAt: ago(H) }, // job without a price
      ]);
      // Charges: $1.50 in February on no invoice (a closed month), $4.25 yesterday; the balance ends at −$0.75.
      await db.insert(ledgerEntries).values([
        {
          tenantId: tenantA,
          kind: "usage",
          amountMicros: -1_500_000n,
          balanceAfterMicros: 3_500_000n,
          description: "job",
          jobId: job.id,
          quantitySeconds: 3600,
          createdAt: new Date("2026-02-20T10:00:00Z"),
        },
        {
          tenantId: tenantA,
          kind: "usage",
          amountMicros: -4_250_000n,
          balanceAfterMicros: -750_000n,
          description: "instance",
          instanceId: "inst_a",
          quantitySeconds: 7200,
          createdAt: ago(24 * H),
        },
      ]);
    });

    it("computes revenue leakage by rule, each amount exact", async () => {
      const res = await h().get("/api/v1/dashboard/leakage");
      expect(res.status).toBe(200);
      const d = res.body.data;
      // 2 h on a GPU held for a missing instance at the H100 reference price $2/GPU-hour.
      expect(d.unbilled_allocations.items).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            gpu_id: gpus[1],
            reason: "instance missing",
            seconds: 7200,
            amount_usd: "4.000000",
          }),
          expect.objectContaining({
            gpu_id: gpus[2],
            reason: "job has no price",
            seconds: 3600,
            amount_usd: "2.000000",
          }),
        ]),
      );
      expect(d.unbilled_allocations).toMatchObject({ count: 2, amount_usd: "6.000000" });
      // 600 s unmetered at $2/h.
      expect(d.unmetered_workloads).toMatchObject({ count: 1, amount_usd: "0.333333" });
      expect(d.unmetered_workloads.items[0]).toMatchObject({ kind: "instance", id: "inst_a", seconds: 600 });
      expect(d.uninvoiced_charges).toMatchObject({ count: 1, amount_usd: "1.500000" });
      expect(d.negative_balances).toMatchObject({ count: 1, amount_usd: "0.750000" });
      expect(d.negative_balances.items[0]).toMatchObject({ tenant_id: tenantA });
      expect(d.total_usd).toBe("8.583333");
      expect((await h().get("/api/v1/dashboard/leakage?days=91")).status).toBe(400);
    });

    it("reports KPIs: GPUs by state, work, revenue in the window, balance owed", async () => {
      await h().post("/api/v1/metrics", {
        metrics: gpus.map((gpu_id, i) => ({ gpu_id, utilization_pct: [80, 0, 10, 30][i] })),
      });
      const d = (await h().get("/api/v1/dashboard")).body.data;
      expect(d.gpus).toEqual({ total: 4, allocated: 3, idle: 1, unhealthy: 0, draining: 0 });
      expect(d).toMatchObject({
        fleet_utilization_pct: 30,
        allocation_pct: 75,
        running_instances: 1,
        running_jobs: 1,
        queued_jobs: 0,
        tenants: 2,
        revenue_usd: "5.750000",
        balance_owed_usd: "0.000000", // tenant A is prepaid: its −$0.75 is leakage, not an invoiced debt
      });
      expect((await h().get("/api/v1/dashboard?days=7")).body.data.revenue_usd).toBe("4.250000");
      const fleet = (await h().get("/api/v1/dashboard/fleet")).body.data;
      expect(fleet[0]).toMatchObject({
        name: "d",
        node_count: 1,
        gpus: { total: 4, allocated: 3, idle: 1 },
        utilization_pct: 30,
      });
      expect(fleet[0].nodes[0]).toMatchObject({ id: nodeId, hostname: "d1", gpus: { total: 4 } });
    });

    it("breaks revenue down by day, tenant and GPU model", async () => {
      const d = (await h().get("/api/v1/dashboard/revenue?days=30")).body.data;
      expect(d.total_usd).toBe("5.750000");
      expect(d.by_day.find((x: any) => x.day === "2026-02-20").amount_usd).toBe("1.500000");
      expect(d.by_day.find((x: any) => x.day === "2026-03-14").amount_usd).toBe("4.250000");
      expect(d.by_day.find((x: any) => x.day === "2026-03-01").amount_usd).toBe("0.000000");
      expect(d.by_tenant).toEqual([expect.objectContaining({ tenant_id: tenantA, amount_usd: "5.750000" })]);
      expect(d.by_gpu_model).toEqual([{ model: "H100", amount_usd: "5.750000" }]);
      expect(d.by_day_gpu_model).toEqual([
        { day: "2026-02-20", model: "H100", amount_usd: "1.500000" },
        { day: "2026-03-14", model: "H100", amount_usd: "4.250000" },
      ]);
    });

    it("reports a tenant's GPU-hours and spend, to an operator or the tenant itself", async () => {
      const res = await h().get(`/api/v1/tenants/${tenantA}/usage`);
      expect(res.status).toBe(200);
      expect(res.body.data).toMatchObject({
        tenant_id: tenantA,
        days: 30,
        gpu_hours: 3,
        spend_usd: "5.750000",
        instances: { gpu_hours: 2, spend_usd: "4.250000" },
        jobs: { gpu_hours: 1, spend_usd: "1.500000" },
        gpus_in_use: 2,
      });
      expect((await h().get(`/api/v1/tenants/${tenantA}/usage?days=7`)).body.data.spend_usd).toBe("4.250000");
      expect((await h().get(`/api/v1/tenants/${tenantA}/usage`, tenantKey)).status).toBe(200);
      expect((await h().get(`/api/v1/tenants/${tenantA + 1}/usage`, tenantKey)).status).toBe(404);
      expect((await h().get(`/api/v1/tenants/${tenantA}/usage?days=0`)).status).toBe(400);
      expect((await h().get("/api/v1/tenants/999999/usage")).status).toBe(404);
      expect((await h().get("/api/v1/dashboard", tenantKey)).status).toBe(403);
    });

    it("counts an invoiced tenant's negative balance as owed, and a prepaid one's as leakage", async () => {
      const created = await h().post("/api/v1/tenants", { name: "Fleet customer", gpu_quota: 4 });
      expect(created.body.data.billing_mode).toBe("invoiced");
      await h()
        .ctx.db.insert(ledgerEntries)
        .values({
          tenantId: created.body.data.id,
          kind: "usage",
          amountMicros: -2_500_000n,
          balanceAfterMicros: -2_500_000n,
          description: "instance",
          instanceId: "inst_b",
          quantitySeconds: 3600,
          createdAt: ago(H),
        });
      expect((await h().get("/api/v1/dashboard")).body.data.balance_owed_usd).toBe("2.500000");
      const leakage = (await h().get("/api/v1/dashboard/leakage")).body.data;
      expect(leakage.negative_balances).toMatchObject({ count: 1, amount_usd: "0.750000" });
      expect(leakage.negative_balances.items).toEqual([expect.objectContaining({ tenant_id: tenantA })]);
    });
  },
  { manualClock: T0 },
);
