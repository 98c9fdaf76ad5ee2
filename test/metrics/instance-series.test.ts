import { expect, it } from "vitest";
import { clusters, gpus, nodes } from "../../src/db/schema/index.js";
import { describeEachDb } from "../helpers/harness.js";
import { customer } from "../instances/fixtures.js";

describeEachDb(
  "an instance's GPU metrics over time",
  (h) => {
    it("averages the samples of the instance's own fleet GPUs, for its tenant only", async () => {
      await h().post("/api/v1/regions", { id: "LAB-01", name: "Lab" });
      const [cluster] = await h().ctx.db.insert(clusters).values({ name: "lab", region: "LAB-01" }).returning();
      const [node] = await h()
        .ctx.db.insert(nodes)
        // Registered an hour ago on the test's clock: samples dated before a GPU's registration are refused.
        .values({
          clusterId: cluster.id,
          hostname: "lab-1",
          ipAddress: "192.0.2.10",
          totalGpus: 2,
          createdAt: new Date(h().clock.now().getTime() - 3600_000),
        })
        .returning();
      const fleetGpus = await h()
        .ctx.db.insert(gpus)
        .values([0, 1].map((i) => ({ nodeId: node.id, gpuIndex: i, model: "NVIDIA H100 80GB HBM3" })))
        .returning();
      const { key, sshKeyId } = await customer(h());
      const deployed = await h().post(
        "/api/v1/deployments/clusters",
        {
          cluster_type: "1H100.80S.30V",
          image: "ubuntu-22.04-cuda-12.4-cluster",
          hostname: "m",
          ssh_key_ids: [sshKeyId],
          location: "LAB-01",
        },
        key,
      );
      expect(deployed.status).toBe(201);
      const id = deployed.body.data.id;

      // The node reports both GPUs; only the one the instance holds belongs in its series.
      const t0 = h().clock.now().getTime() - 10 * 60_000;
      const at = (minutes: number) => new Date(t0 + minutes * 60_000).toISOString();
      const metrics = fleetGpus.flatMap((gpu, i) => [
        { gpu_id: gpu.id, ts: at(0), utilization_pct: 10 + i * 50, memory_used_mb: 1000 + i * 50_000 },
        { gpu_id: gpu.id, ts: at(1), utilization_pct: 30 + i * 50, memory_used_mb: 3000 + i * 50_000 },
      ]);
      expect((await h().post("/api/v1/metrics", { metrics })).status).toBe(201);

      const url = `/api/v1/instances/${id}/metrics?from=${at(0)}&to=${at(2)}&step=60`;
      const res = await h().get(url, key);
      expect(res.status).toBe(200);
      const held = res.body.data.gpu_ids;
      expect(held).toHaveLength(1);
      const i = fleetGpus.findIndex((g) => g.id === held[0]);
      expect(res.body.data.points.map((p: any) => [p.ts, p.samples, p.utilization_pct, p.memory_used_mb])).toEqual([
        [at(0), 1, 10 + i * 50, 1000 + i * 50_000],
        [at(1), 1, 30 + i * 50, 3000 + i * 50_000],
      ]);

      // Another tenant gets a 404, as for the instance itself; a bad step is a 400 naming it.
      const stranger = await h().signup();
      expect((await h().get(url, stranger.key)).status).toBe(404);
      expect((await h().get(`/api/v1/instances/${id}/metrics?step=fast`, key)).body.error).toMatch(/step/);

      // Stopped, the instance holds no fleet GPU: an empty series, not the GPU's next tenant's samples.
      expect((await h().post(`/api/v1/instances/${id}/stop`, undefined, key)).status).toBe(200);
      const stopped = await h().get(url, key);
      expect(stopped.status).toBe(200);
      expect(stopped.body.data).toMatchObject({ gpu_ids: [], points: [] });
    });
  },
  { manualClock: true },
);
