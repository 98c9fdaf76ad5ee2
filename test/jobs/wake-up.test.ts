import { expect, it } from "vitest";
import { clusters, gpus, nodes } from "../../src/db/schema/index.js";
import { describeEachDb } from "../helpers/harness.js";
import { customer } from "../instances/fixtures.js";

/**
 * With the loops running, as in a server: an instance giving its GPU back kicks the scheduler, so a job waiting for
 * that GPU is placed within moments instead of at the next 30 s pass.
 */
describeEachDb("scheduler wake-up", (h) => {
  it("places a job blocked on capacity right after an instance on the same node is deleted", async () => {
    await h().post("/api/v1/regions", { id: "WAKE-01", name: "Wake" });
    const [cluster] = await h().ctx.db.insert(clusters).values({ name: "wake", region: "WAKE-01" }).returning();
    const [node] = await h()
      .ctx.db.insert(nodes)
      .values({ clusterId: cluster.id, hostname: "wake-1", ipAddress: "192.0.2.20", totalGpus: 1 })
      .returning();
    await h().ctx.db.insert(gpus).values({ nodeId: node.id, gpuIndex: 0, model: "NVIDIA H100 80GB HBM3" });

    const c = await customer(h());
    const instance = await h().post(
      "/api/v1/deployments/clusters",
      {
        cluster_type: "1H100.80S.30V",
        image: "ubuntu-22.04-cuda-12.4-cluster",
        hostname: "holder",
        ssh_key_ids: [c.sshKeyId],
        location: "WAKE-01",
      },
      c.key,
    );
    expect(instance.status, instance.text).toBe(201);

    const job = await h().post("/api/v1/jobs", { cluster_id: cluster.id, name: "waits", gpu_type: "H100" }, c.key);
    expect(job.status, job.text).toBe(201);
    await h().runWorker("scheduler");
    const blocked = (await h().get(`/api/v1/jobs/${job.body.data.id}`, c.key)).body.data;
    expect(blocked.status).toBe("blocked");
    expect(blocked.block_reason).toMatch(/^no capacity:/);

    h().server.runner!.start(); // the scheduler's own next pass is now 30 s away
    const deletedAt = performance.now();
    expect((await h().del(`/api/v1/instances/${instance.body.data.id}`, c.key)).status).toBe(200);
    for (;;) {
      const current = (await h().get(`/api/v1/jobs/${job.body.data.id}`, c.key)).body.data;
      if (current.status === "scheduled" || current.status === "running") break;
      if (performance.now() - deletedAt > 5_000)
        throw new Error(`job still ${current.status}: ${current.block_reason}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(performance.now() - deletedAt).toBeLessThan(2_000);
  });
});
