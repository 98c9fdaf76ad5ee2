import { eq } from "drizzle-orm";
import { expect, it } from "vitest";
import { gpuAllocations, instanceTypes } from "../../src/db/schema/index.js";
import { describeEachDb } from "../helpers/harness.js";
import {
  addCluster,
  addInstance,
  addNode,
  job,
  pass,
  setNodeStatus,
  submit,
  tenantWithQuota,
} from "./fleet-fixture.js";

describeEachDb("job scheduler", (h) => {
  it("blocks a job on quota with a reason, then schedules it when the tenant's GPUs free", async () => {
    const cluster = await addCluster(h());
    await addNode(h(), cluster, 8);
    const t = await tenantWithQuota(h(), 4);
    const first = await submit(h(), { cluster_id: cluster, gpu_count: 3 }, t.key);
    const second = await submit(h(), { cluster_id: cluster, gpu_count: 2 }, t.key);
    const r = await h().runWorker("scheduler");
    expect(r).toMatchObject({ scheduled: 1 });
    expect((await job(h(), first.id)).status).toBe("running");
    const blocked = await job(h(), second.id);
    expect(blocked.status).toBe("blocked");
    expect(blocked.block_reason).toMatch(/^quota: tenant \d+ uses 3 of 4 GPUs; this job needs 2 more/);
    await h().patch(`/api/v1/jobs/${first.id}/status`, { status: "completed" });
    await pass(h());
    const now = await job(h(), second.id);
    expect(now.status).toBe("running");
    expect(now.block_reason).toBeNull();
  });

  it("counts a tenant's instances against the same quota", async () => {
    const cluster = await addCluster(h());
    await addNode(h(), cluster, 8);
    const t = await tenantWithQuota(h(), 3);
    await addInstance(h(), t.tenantId, 2);
    const fits = await submit(h(), { cluster_id: cluster }, t.key);
    const over = await submit(h(), { cluster_id: cluster }, t.key);
    await pass(h());
    expect((await job(h(), fits.id)).status).toBe("running");
    expect((await job(h(), over.id)).block_reason).toMatch(/^quota: tenant \d+ uses 3 of 3 GPUs/);
  });

  it("counts an instance that is still stopping against the quota, as instance create does", async () => {
    // A stopping instance's container still holds its GPUs until the runtime says it stopped.
    const cluster = await addCluster(h());
    await addNode(h(), cluster, 8);
    const t = await tenantWithQuota(h(), 2);
    await addInstance(h(), t.tenantId, 2, "stopping");
    const waiting = await submit(h(), { cluster_id: cluster }, t.key);
    await pass(h());
    const j = await job(h(), waiting.id);
    expect(j.status).toBe("blocked");
    expect(j.block_reason).toMatch(/^quota: tenant \d+ uses 2 of 2 GPUs/);
  });

  it("places by priority then age", async () => {
    const cluster = await addCluster(h());
    await addNode(h(), cluster, 2);
    const low = await submit(h(), { cluster_id: cluster, priority: 9, gpu_count: 2 });
    const old = await submit(h(), { cluster_id: cluster, priority: 3 });
    const urgent = await submit(h(), { cluster_id: cluster, priority: 1 });
    const young = await submit(h(), { cluster_id: cluster, priority: 3 });
    await pass(h());
    expect((await job(h(), urgent.id)).status).toBe("running");
    expect((await job(h(), old.id)).status).toBe("running");
    expect((await job(h(), young.id)).status).toBe("blocked");
    const l = await job(h(), low.id);
    expect(l.status).toBe("blocked");
    // Jobs ahead in the order took both GPUs this pass: the low-priority job says it waits behind them.
    expect(l.block_reason).toMatch(new RegExp(`^priority: behind job ${urgent.id} and others ahead in the queue`));
    expect(l.pending_reason.code).toBe("priority");
  });

  it("puts all of a job's GPUs on one node, best fit, keeping whole nodes free", async () => {
    const cluster = await addCluster(h());
    const big = await addNode(h(), cluster, 8);
    const small = await addNode(h(), cluster, 4);
    const a = await submit(h(), { cluster_id: cluster, gpu_count: 3 });
    await pass(h());
    expect((await job(h(), a.id)).node_id).toBe(small.nodeId);
    const b = await submit(h(), { cluster_id: cluster, gpu_count: 1 });
    await pass(h());
    expect((await job(h(), b.id)).node_id).toBe(small.nodeId); // fills the partly used node
    const c = await submit(h(), { cluster_id: cluster, gpu_count: 8 });
    await pass(h());
    const placed = await job(h(), c.id);
    expect(placed.node_id).toBe(big.nodeId);
    expect(placed.gpu_indices).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const d = await submit(h(), { cluster_id: cluster, gpu_count: 2 });
    await pass(h());
    expect((await job(h(), d.id)).block_reason).toMatch(/^no capacity/); // 0 + 0 free: never split across nodes
  });

  it("matches gpu_type as a word, blocks with 'no matching GPU type', skips unhealthy and cordoned", async () => {
    const cluster = await addCluster(h());
    const a100 = await addNode(h(), cluster, 2, { model: "NVIDIA A100-SXM4-80GB" });
    const h100 = await addNode(h(), cluster, 2, { model: "NVIDIA H100 80GB HBM3" });
    const j = await submit(h(), { cluster_id: cluster, gpu_type: "h100", gpu_count: 2 });
    const none = await submit(h(), { cluster_id: cluster, gpu_type: "H10" });
    const tooBig = await submit(h(), { cluster_id: cluster, gpu_type: "A100", gpu_count: 4 });
    await pass(h());
    expect((await job(h(), j.id)).node_id).toBe(h100.nodeId);
    expect((await job(h(), none.id)).block_reason).toMatch(/^no matching GPU type: cluster \d+ has no 'H10' GPUs/);
    expect((await job(h(), tooBig.id)).block_reason).toMatch(/^no matching GPU type: no node .* has 4 'A100'/);
    await setNodeStatus(h(), a100.nodeId, "cordoned");
    const cordoned = await submit(h(), { cluster_id: cluster, gpu_type: "A100" });
    await pass(h());
    expect((await job(h(), cordoned.id)).status).toBe("blocked");
    await setNodeStatus(h(), a100.nodeId, "active");
    await pass(h());
    expect((await job(h(), cordoned.id)).node_id).toBe(a100.nodeId);
  });

  it("sets the catalog's cheapest per-GPU price on tenant jobs, none on operator jobs", async () => {
    const cluster = await addCluster(h());
    await addNode(h(), cluster, 4, { model: "NVIDIA Z900 80GB" });
    const base = { gpuModel: "Z900", gpuMemoryGb: 80, vcpus: 8, ramGb: 64, diskGb: 100 };
    await h()
      .ctx.db.insert(instanceTypes)
      .values([
        { id: "z900-1x", name: "Z900 1x", gpuCount: 1, pricePerHourMicros: 3_000_000n, ...base },
        { id: "z900-4x", name: "Z900 4x", gpuCount: 4, pricePerHourMicros: 10_000_000n, ...base },
      ]);
    const t = await tenantWithQuota(h(), 8);
    const billed = await submit(h(), { cluster_id: cluster }, t.key);
    const internal = await submit(h(), { cluster_id: cluster });
    await pass(h());
    expect((await job(h(), billed.id)).price_per_gpu_hour_usd).toBe("2.500000");
    expect((await job(h(), internal.id)).price_per_gpu_hour_usd).toBeNull();
  });

  it("starts a job at once on a node without an agent, and waits for the agent on one with", async () => {
    const cluster = await addCluster(h());
    const agentless = await addNode(h(), cluster, 1);
    const withAgent = await addNode(h(), cluster, 2, { agent: true });
    const a = await submit(h(), { cluster_id: cluster });
    const b = await submit(h(), { cluster_id: cluster, gpu_count: 2 });
    await pass(h());
    const ja = await job(h(), a.id);
    expect(ja).toMatchObject({ status: "running", node_id: agentless.nodeId });
    expect(ja.started_at).not.toBeNull();
    const jb = await job(h(), b.id);
    expect(jb).toMatchObject({ status: "scheduled", node_id: withAgent.nodeId, started_at: null });
  });

  it("never starves a high-priority 8-GPU job behind a stream of 1-GPU jobs", async () => {
    const cluster = await addCluster(h());
    for (let i = 0; i < 2; i++) await addNode(h(), cluster, 8);
    const small = () => submit(h(), { cluster_id: cluster, estimated_duration_min: 30 });
    for (let i = 0; i < 16; i++) await small();
    await pass(h());
    const big = await submit(h(), { cluster_id: cluster, gpu_count: 8, priority: 1, estimated_duration_min: 60 });
    let placedAfter = -1;
    for (let round = 1; round <= 20 && placedAfter < 0; round++) {
      // Each round the oldest running small job ends and two more arrive: without a reservation the freed GPU
      // would always go to a small job and the big one would wait forever.
      const running = await h().get(`/api/v1/jobs?cluster_id=${cluster}&status=running&limit=200`);
      const oldest = Math.min(...running.body.data.map((j: any) => j.id));
      await h().patch(`/api/v1/jobs/${oldest}/status`, { status: "completed" });
      await small();
      await small();
      await pass(h());
      if ((await job(h(), big.id)).status === "running") placedAfter = round;
    }
    expect(placedAfter).toBeGreaterThan(0);
    expect(placedAfter).toBeLessThanOrEqual(8); // its reserved node drains: 8 completions at most
  });

  it("cancel releases the GPUs for the next job", async () => {
    const cluster = await addCluster(h());
    const node = await addNode(h(), cluster, 2);
    const a = await submit(h(), { cluster_id: cluster, gpu_count: 2 });
    const b = await submit(h(), { cluster_id: cluster, gpu_count: 2 });
    await pass(h());
    expect((await job(h(), b.id)).status).toBe("blocked");
    const held = await h().ctx.db.select().from(gpuAllocations).where(eq(gpuAllocations.jobId, a.id));
    expect(held.map((r) => r.nodeId)).toEqual([node.nodeId, node.nodeId]);
    const cancelled = await h().post(`/api/v1/jobs/${a.id}/cancel`);
    expect(cancelled.body.data).toMatchObject({ status: "cancelled" });
    expect(await h().ctx.db.select().from(gpuAllocations).where(eq(gpuAllocations.jobId, a.id))).toEqual([]);
    await pass(h());
    expect((await job(h(), b.id)).status).toBe("running");
  });
});
