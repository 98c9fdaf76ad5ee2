import { eq } from "drizzle-orm";
import { expect, it } from "vitest";
import { clusters, gpuAllocations, gpus, nodes } from "../../src/db/schema/index.js";
import { allocateGpus } from "../../src/domain/fleet/allocate.js";
import { markInstanceRunning } from "../../src/domain/instances/lifecycle.js";
import { describeEachDb } from "../helpers/harness.js";
import { customer, syncStatus } from "./fixtures.js";

describeEachDb(
  "fleet provider",
  (h) => {
    async function node(region: string, hostname: string, count: number, heartbeat: Date | null) {
      const [cluster] = await h()
        .ctx.db.insert(clusters)
        .values({ name: `c-${hostname}`, region })
        .returning();
      const [n] = await h()
        .ctx.db.insert(nodes)
        .values({
          clusterId: cluster.id,
          hostname,
          ipAddress: "192.0.2.10",
          totalGpus: count,
          lastHeartbeatAt: heartbeat,
        })
        .returning();
      await h()
        .ctx.db.insert(gpus)
        .values(
          Array.from({ length: count }, (_, i) => ({ nodeId: n.id, gpuIndex: i, model: "NVIDIA H100 80GB HBM3" })),
        );
      return n;
    }
    const deploy = (key: string, sshKeyId: string, region: string) =>
      h().post(
        "/api/v1/deployments/clusters",
        {
          cluster_type: "1H100.80S.30V",
          image: "ubuntu-22.04-cuda-12.4-cluster",
          hostname: "f",
          ssh_key_ids: [sshKeyId],
          location: region,
        },
        key,
      );
    const available = async (region: string) =>
      (await h().get(`/api/v1/gpus/available?region=${region}&gpu_model=H100`, null)).body.data.find(
        (o: any) => o.cluster_type === "1H100.80S.30V",
      ).regions[0].available_count;

    it("places instances on a node without an agent, unbilled until one reports; GPUs shared with jobs, never double-booked", async () => {
      await h().post("/api/v1/regions", { id: "LAB-01", name: "Lab" });
      const n = await node("LAB-01", "lab-node-1", 2, null);
      const { key, sshKeyId } = await customer(h());
      expect(await available("LAB-01")).toBe(2);
      const a = await deploy(key, sshKeyId, "LAB-01");
      expect(a.status).toBe(201);
      // Nothing runs it yet: no agent on the node has said its container is up, so no address and no billing.
      expect(a.body.data).toMatchObject({ status: "provisioning", ssh_command: null });
      expect(await available("LAB-01")).toBe(1);
      // A job takes the other GPU from the same pool.
      const job = await h().ctx.db.transaction((tx) =>
        allocateGpus(tx, { gpuModel: "H100", count: 1, region: "LAB-01", tenantId: null, jobId: 4242 }),
      );
      expect(job).not.toBeNull();
      expect(await available("LAB-01")).toBe(0);
      const full = await deploy(key, sshKeyId, "LAB-01");
      expect(full.status).toBe(409);
      expect(full.body.waitlist.region).toBe("LAB-01");
      // Stopping gives the GPU back; starting takes one again.
      await h().post(`/api/v1/instances/${a.body.data.id}/stop`, undefined, key);
      expect(await available("LAB-01")).toBe(1);
      const held = await h().ctx.db.select().from(gpuAllocations).where(eq(gpuAllocations.nodeId, n.id));
      expect(held.map((g) => g.jobId)).toEqual([4242]);
      const started = await h().post(`/api/v1/instances/${a.body.data.id}/start`, undefined, key);
      expect(started.body.data.status).toBe("provisioning");
      await h().del(`/api/v1/instances/${a.body.data.id}`, key);
      expect(await available("LAB-01")).toBe(1);
    });

    it("waits for the agent on a managed node, and marks the instance lost when the node goes down", async () => {
      await h().post("/api/v1/regions", { id: "LAB-02", name: "Lab 2" });
      const n = await node("LAB-02", "lab-node-2", 1, h().clock.now());
      const { key, sshKeyId } = await customer(h());
      const a = await deploy(key, sshKeyId, "LAB-02");
      expect(a.body.data.status).toBe("provisioning");
      await markInstanceRunning(h().ctx, a.body.data.id, { ipAddress: "192.0.2.20", sshUser: "root", sshPort: 2222 });
      const running = await h().get(`/api/v1/deployments/${a.body.data.id}`, key);
      expect(running.body.data.ssh_command).toBe("ssh -p 2222 root@192.0.2.20");
      await h().ctx.db.update(nodes).set({ status: "down" }).where(eq(nodes.id, n.id));
      await syncStatus(h(), 0);
      const lost = await h().get(`/api/v1/deployments/${a.body.data.id}`, key);
      expect(lost.body.data.status).toBe("failed");
      expect(lost.body.data.status_reason).toContain("lab-node-2 is down");
      expect(await h().ctx.db.select().from(gpuAllocations).where(eq(gpuAllocations.nodeId, n.id))).toEqual([]);
    });
  },
  { manualClock: true },
);
