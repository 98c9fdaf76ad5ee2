import { expect, it } from "vitest";
import { describeOneDb } from "../helpers/harness.js";
import { addCluster, addNode, job, submit, tenantWithQuota } from "./fleet-fixture.js";

/**
 * Every waiting job says why, through the API (and so the CLI's WHY WAITING and the console's jobs table): a code a
 * program can branch on and a sentence for a person, from submit to the moment it gets GPUs.
 */
describeOneDb("pending reasons", (h) => {
  it("a queued job not yet considered, then one reason per waiting job: quota, GPU type, priority, an operator's hold", async () => {
    const cluster = await addCluster(h());
    await addNode(h(), cluster, 2);
    await addNode(h(), cluster, 2);
    await addNode(h(), cluster, 2);
    const t = await tenantWithQuota(h(), 2);

    const first = await submit(h(), { cluster_id: cluster, gpu_count: 2, priority: 1, estimated_duration_min: 60 });
    expect((await job(h(), first.id)).pending_reason).toEqual({
      code: "queued",
      message: "waiting for the next scheduling pass",
    });
    const tenantFirst = await submit(h(), { cluster_id: cluster, gpu_count: 2, priority: 1 }, t.key);
    const overQuota = await submit(h(), { cluster_id: cluster, gpu_count: 1 }, t.key);
    const noType = await submit(h(), { cluster_id: cluster, gpu_count: 1, gpu_type: "B200" });
    const tooWide = await submit(h(), { cluster_id: cluster, gpu_count: 3, priority: 2 });
    await h().runWorker("scheduler");

    expect((await job(h(), first.id)).pending_reason).toBeNull(); // it has its GPUs
    expect((await job(h(), tenantFirst.id)).pending_reason).toBeNull();
    expect((await job(h(), overQuota.id)).pending_reason).toEqual({
      code: "quota",
      message: expect.stringMatching(/^tenant \d+ uses 2 of 2 GPUs; this job needs 1 more$/),
    });
    expect((await job(h(), noType.id)).pending_reason).toMatchObject({ code: "gpu_type" });
    // Three GPUs are wanted on one node, and no node has three: that is the fleet's shape, not a wait.
    expect((await job(h(), tooWide.id)).pending_reason).toMatchObject({ code: "gpu_type" });

    const second = await submit(h(), { cluster_id: cluster, gpu_count: 1, priority: 3 });
    const third = await submit(h(), { cluster_id: cluster, gpu_count: 2, priority: 4 });
    await h().runWorker("scheduler");
    expect((await job(h(), second.id)).pending_reason).toBeNull();
    // One GPU left on the third node: the 2-GPU job waits behind the job that took the other this pass.
    const waiting = await job(h(), third.id);
    expect(waiting.status).toBe("blocked");
    expect(waiting.pending_reason).toEqual({
      code: "priority",
      message: expect.stringMatching(new RegExp(`^behind job ${second.id} and others ahead in the queue`)),
    });

    const held = await h().patch(`/api/v1/jobs/${third.id}/status`, { status: "blocked", block_reason: "maintenance" });
    expect(held.status, held.text).toBe(200);
    expect((await job(h(), third.id)).pending_reason).toEqual({ code: "held", message: "maintenance" });
    const list = (await h().get("/api/v1/jobs?status=blocked")).body.data;
    expect(list.every((j: any) => j.pending_reason !== null)).toBe(true);
  });
});
