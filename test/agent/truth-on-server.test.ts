import { randomBytes } from "node:crypto";
import { eq } from "drizzle-orm";
import { expect, it } from "vitest";
import { gpuAllocations, instances, ledgerEntries, nodes } from "../../src/db/schema/index.js";
import { markSilentNodesDown } from "../../src/domain/agent/node-down.js";
import { meterPass } from "../../src/domain/billing/meter.js";
import { allocateGpus } from "../../src/domain/fleet/allocate.js";
import type { ManualClock } from "../../src/lib/clock.js";
import { describeOneDb } from "../helpers/harness.js";
import { addCluster, addNode, job, pass, submit } from "../jobs/fleet-fixture.js";

/** gpuplane says running (and bills) only when something runs: for a job with a command, that is an agent's word. */
describeOneDb("truth on the server", (h) => {
  it("a job with a command on a node without an agent waits, scheduled and unbilled; a job with none runs", async () => {
    const cluster = await addCluster(h());
    await addNode(h(), cluster, 2);
    const tracked = await submit(h(), { cluster_id: cluster });
    const executable = await submit(h(), { cluster_id: cluster, command: "python train.py", image: "docker.io/a/b:1" });
    await pass(h());
    expect(await job(h(), tracked.id)).toMatchObject({ status: "running" });
    const waiting = await job(h(), executable.id);
    expect(waiting).toMatchObject({ status: "scheduled", started_at: null, image: "docker.io/a/b:1" });
  });

  it("a job's image must be an image reference, never something the runtime would read as a flag", async () => {
    const cluster = await addCluster(h());
    for (const image of ["--privileged", "a b", ""]) {
      const res = await h().post("/api/v1/jobs", { cluster_id: cluster, name: "x", command: "true", image });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatch(/image/);
    }
  });
});

/**
 * A fleet instance runs (and bills) until its node's agent says the container stopped: stop and delete wait for that
 * word, which carries when the agent saw it stop. The meter, the agent reports and the node-down sweep are the real
 * ones; the agent is played over HTTP with its node credential.
 */
describeOneDb(
  "truth on the server: stops the agent confirms",
  (h) => {
    const PRICE = 3_600_000n; // $3.60/h = 1,000 micro-dollars a second
    let clusterId: number;

    async function agentNode(gpuCount: number) {
      if (!clusterId) {
        const cluster = await h().post("/api/v1/clusters", { name: `stops-${h().kind}`, region: "us-east-1" });
        clusterId = cluster.body.data.id;
      }
      const token = (await h().post(`/api/v1/clusters/${clusterId}/join-tokens`, {})).body.data.token;
      const hostname = `stops-${randomBytes(4).toString("hex")}`;
      const gpuList = Array.from({ length: gpuCount }, (_, i) => ({
        index: i,
        uuid: `GPU-${hostname}-${i}`,
        model: "NVIDIA H100 80GB HBM3",
      }));
      const joined = await h().post("/api/v1/agent/join", { token, hostname, gpus: gpuList }, null);
      expect(joined.status).toBe(201);
      return { nodeId: joined.body.data.node_id as number, key: joined.body.data.credential as string };
    }

    /** A fleet instance on the node, up since the agent's ready report (now). */
    async function runningInstance(node: { nodeId: number; key: string }, tenantId: number) {
      const id = `inst_stop_${randomBytes(5).toString("hex")}`;
      await h().ctx.db.insert(instances).values({
        id,
        tenantId,
        name: "stops",
        instanceTypeId: "it_test",
        requestedType: "GPU.H100.1x",
        imageId: "img_test",
        regionId: "us-east-1",
        gpuCount: 1,
        gpuModel: "H100",
        pricePerHourMicros: PRICE,
        billingGranularitySeconds: 1,
        provider: "fleet",
        nodeId: node.nodeId,
        status: "provisioning",
        sshKeyIds: [],
        sshPublicKeys: [],
      });
      await h().ctx.db.transaction((tx) =>
        allocateGpus(tx, { count: 1, nodeId: node.nodeId, tenantId, instanceId: id }),
      );
      const ready = await h().post(
        `/api/v1/agent/instances/${id}/ready`,
        { ip_address: "10.0.0.9", ssh_user: "root", ssh_port: 20001 },
        node.key,
      );
      expect(ready.body.data).toMatchObject({ status: "running" });
      return id;
    }

    const clock = () => h().ctx.clock as ManualClock;
    const row = async (id: string) => (await h().ctx.db.select().from(instances).where(eq(instances.id, id)))[0];
    const held = async (id: string) =>
      (await h().ctx.db.select().from(gpuAllocations).where(eq(gpuAllocations.instanceId, id))).length;
    async function charged(id: string): Promise<bigint> {
      await meterPass(h().ctx);
      const rows = await h().ctx.db.select().from(ledgerEntries).where(eq(ledgerEntries.instanceId, id));
      return rows.reduce((sum, r) => sum - r.amountMicros, 0n);
    }

    it("a stop bills until the agent saw the container stop, holding the GPU until then", async () => {
      const node = await agentNode(1);
      const tenant = await h().signup();
      const id = await runningInstance(node, tenant.tenantId);
      const t0 = clock().now().getTime();
      clock().advance(100_000);
      const stop = await h().post(`/api/v1/instances/${id}/stop`, {}, tenant.key);
      expect(stop.body.data).toMatchObject({ status: "stopping" });
      expect(await held(id)).toBe(1);
      // The agent is told, and a start must wait for the stop.
      const assigned = await h().get("/api/v1/agent/assignments?wait=0", node.key);
      expect(assigned.body.data.instances).toContainEqual(expect.objectContaining({ id, status: "stopping" }));
      expect((await h().post(`/api/v1/instances/${id}/start`, {}, tenant.key)).status).toBe(409);
      clock().advance(20_000);
      expect(await charged(id)).toBe(120_000n); // still billed while stopping
      clock().advance(40_000);
      const at = new Date(t0 + 130_000).toISOString();
      const confirmed = await h().post(`/api/v1/agent/instances/${id}/stopped`, { at }, node.key);
      expect(confirmed.body.data).toMatchObject({ status: "stopped" });
      expect((await row(id)).stoppedAt?.toISOString()).toBe(at);
      expect(await held(id)).toBe(0);
      expect(await charged(id)).toBe(130_000n);
      // A repeated report changes nothing and charges nothing more.
      clock().advance(30_000);
      await h().post(`/api/v1/agent/instances/${id}/stopped`, { at }, node.key);
      expect(await charged(id)).toBe(130_000n);
      expect((await row(id)).status).toBe("stopped");
    });

    it("a delete bills until the agent removed the container, never past the report's arrival", async () => {
      const node = await agentNode(1);
      const tenant = await h().signup();
      const id = await runningInstance(node, tenant.tenantId);
      clock().advance(50_000);
      const deleting = await h().del(`/api/v1/instances/${id}`, tenant.key);
      expect(deleting.body.data).toMatchObject({ status: "deleting" });
      expect(await held(id)).toBe(1);
      clock().advance(10_000);
      // "stopped" is not enough for a delete; "removed" is. A time in the future is cut at the report's arrival.
      await h().post(`/api/v1/agent/instances/${id}/stopped`, {}, node.key);
      expect((await row(id)).status).toBe("deleting");
      const future = new Date(clock().now().getTime() + 3_600_000).toISOString();
      const removed = await h().post(`/api/v1/agent/instances/${id}/removed`, { at: future }, node.key);
      expect(removed.body.data).toMatchObject({ status: "deleted" });
      expect(await held(id)).toBe(0);
      expect(await charged(id)).toBe(60_000n);
      const bad = await h().post(`/api/v1/agent/instances/${id}/removed`, { at: "yesterday" }, node.key);
      expect(bad.status).toBe(400);
    });

    it("a stop the agent never confirms completes when the node is marked down", async () => {
      const node = await agentNode(2);
      const tenant = await h().signup();
      const stopping = await runningInstance(node, tenant.tenantId);
      const deleting = await runningInstance(node, tenant.tenantId);
      clock().advance(10_000);
      await h().post(`/api/v1/instances/${stopping}/stop`, {}, tenant.key);
      await h().del(`/api/v1/instances/${deleting}`, tenant.key);
      clock().advance(h().ctx.config.nodeGraceMs + 1000);
      expect(await markSilentNodesDown(h().ctx)).toContain(node.nodeId);
      expect(await row(stopping)).toMatchObject({ status: "stopped" });
      expect(await row(deleting)).toMatchObject({ status: "deleted" });
      expect(await held(stopping)).toBe(0);
      expect(await held(deleting)).toBe(0);
      const billed = BigInt(10_000 + h().ctx.config.nodeGraceMs + 1000);
      expect(await charged(stopping)).toBe(billed);
      expect(await charged(deleting)).toBe(billed);
    });

    it("on a node without a live agent a stop completes at once", async () => {
      const node = await agentNode(1);
      const tenant = await h().signup();
      const id = await runningInstance(node, tenant.tenantId);
      await h().ctx.db.update(nodes).set({ status: "down" }).where(eq(nodes.id, node.nodeId));
      clock().advance(5_000);
      const stop = await h().post(`/api/v1/instances/${id}/stop`, {}, tenant.key);
      expect(stop.body.data).toMatchObject({ status: "stopped" });
      expect(await held(id)).toBe(0);
      expect(await charged(id)).toBe(5_000n);
    });

    it("a job's run ends when the agent saw it exit", async () => {
      const node = await agentNode(1);
      const submitted = await submit(h(), { cluster_id: clusterId, command: "python train.py", gpu_count: 1 });
      await pass(h());
      expect(await job(h(), submitted.id)).toMatchObject({ status: "scheduled" });
      await h().post(`/api/v1/agent/jobs/${submitted.id}/status`, { status: "running" }, node.key);
      const started = clock().now().getTime();
      clock().advance(100_000);
      const exited = new Date(started + 40_000).toISOString();
      const res = await h().post(
        `/api/v1/agent/jobs/${submitted.id}/status`,
        { status: "completed", exit_code: 0, finished_at: exited },
        node.key,
      );
      expect(res.status).toBe(200);
      const done = await job(h(), submitted.id);
      expect(done.status).toBe("completed");
      expect(new Date(done.finished_at).toISOString()).toBe(exited);
    });
  },
  { manualClock: true },
);
