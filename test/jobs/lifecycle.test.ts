import { eq } from "drizzle-orm";
import { expect, it } from "vitest";
import { events, gpuAllocations } from "../../src/db/schema/index.js";
import { jobsForNode, markNodeJobsLost, preemptTenantJobs, reportJobStatus } from "../../src/domain/jobs/lifecycle.js";
import { describeEachDb } from "../helpers/harness.js";
import { addCluster, addNode, job, pass, submit, tenantWithQuota } from "./fleet-fixture.js";

describeEachDb("job lifecycle exports", (h) => {
  it("the agent reports running then completed with exit code and output; GPUs come back", async () => {
    const cluster = await addCluster(h());
    const node = await addNode(h(), cluster, 2, { agent: true });
    const j = await submit(h(), { cluster_id: cluster, gpu_count: 2, command: "echo hi", env: { A: "1" } });
    await pass(h());
    const assigned = await jobsForNode(h().ctx, node.nodeId);
    expect(assigned.map((r) => [r.id, r.command, r.env])).toEqual([[j.id, "echo hi", { A: "1" }]]);
    await expect(reportJobStatus(h().ctx, j.id, node.nodeId + 1000, { status: "running" })).rejects.toThrow(
      /not found/,
    );
    const running = await reportJobStatus(h().ctx, j.id, node.nodeId, { status: "running" });
    expect(running.status).toBe("running");
    expect((await reportJobStatus(h().ctx, j.id, node.nodeId, { status: "running" })).status).toBe("running");
    const done = await reportJobStatus(h().ctx, j.id, node.nodeId, {
      status: "failed",
      exitCode: 3,
      outputTail: "boom",
    });
    expect(done).toMatchObject({ status: "failed", exitCode: 3, outputTail: "boom" });
    expect(await h().ctx.db.select().from(gpuAllocations).where(eq(gpuAllocations.jobId, j.id))).toEqual([]);
    const types = (await h().ctx.db.select().from(events))
      .filter((e: any) => e.data?.job_id === j.id)
      .map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(["job.scheduled", "job.running", "job.failed"]));
  });

  it("a report after a cancel returns the cancelled job so the agent stops it", async () => {
    const cluster = await addCluster(h());
    const node = await addNode(h(), cluster, 1, { agent: true });
    const j = await submit(h(), { cluster_id: cluster, command: "sleep 100" });
    await pass(h());
    await h().post(`/api/v1/jobs/${j.id}/cancel`);
    const after = await reportJobStatus(h().ctx, j.id, node.nodeId, { status: "running" });
    expect(after.status).toBe("cancelled");
  });

  it("preemptTenantJobs ends the tenant's scheduled/running jobs as failed, noting the preemption", async () => {
    const cluster = await addCluster(h());
    await addNode(h(), cluster, 4);
    const t = await tenantWithQuota(h(), 8);
    const other = await tenantWithQuota(h(), 8);
    const a = await submit(h(), { cluster_id: cluster, gpu_count: 2 }, t.key);
    const b = await submit(h(), { cluster_id: cluster }, other.key);
    await pass(h());
    const ids = await preemptTenantJobs(h().ctx, t.tenantId, "credits exhausted");
    expect(ids).toEqual([a.id]);
    const row = await job(h(), a.id);
    expect(row).toMatchObject({ status: "failed", block_reason: "preempted: credits exhausted" });
    expect(row.output_tail).toContain("preempted: credits exhausted");
    expect((await job(h(), b.id)).status).toBe("running");
    expect(await h().ctx.db.select().from(gpuAllocations).where(eq(gpuAllocations.jobId, a.id))).toEqual([]);
    const evs = await h().ctx.db.select().from(events).where(eq(events.type, "job.preempted"));
    expect(evs.some((e: any) => e.data.job_id === a.id && e.tenantId === t.tenantId)).toBe(true);
    // An operator may requeue it.
    const requeued = await h().patch(`/api/v1/jobs/${a.id}/status`, { status: "queued" });
    expect(requeued.body.data).toMatchObject({ status: "queued", node_id: null, block_reason: null });
  });

  it("markNodeJobsLost fails the node's jobs and frees its GPUs; other nodes are untouched", async () => {
    const cluster = await addCluster(h());
    const n1 = await addNode(h(), cluster, 1, { agent: true });
    await addNode(h(), cluster, 1, { agent: true });
    const a = await submit(h(), { cluster_id: cluster });
    const b = await submit(h(), { cluster_id: cluster });
    await pass(h());
    const onN1 = (await job(h(), a.id)).node_id === n1.nodeId ? a : b;
    const elsewhere = onN1 === a ? b : a;
    expect(await markNodeJobsLost(h().ctx, n1.nodeId, "no heartbeat for 60 s")).toEqual([onN1.id]);
    expect((await job(h(), onN1.id)).block_reason).toBe("node lost: no heartbeat for 60 s");
    expect((await job(h(), elsewhere.id)).status).toBe("scheduled");
    expect(await h().ctx.db.select().from(gpuAllocations).where(eq(gpuAllocations.nodeId, n1.nodeId))).toEqual([]);
  });
});
