import { expect, it } from "vitest";
import { gpuAllocations } from "../../src/db/schema/index.js";
import { describeEachDb } from "../helpers/harness.js";

describeEachDb("fleet: clusters, nodes, GPUs", (h) => {
  let clusterId: number;
  let nodeId: number;

  it("creates, lists, gets and updates a cluster", async () => {
    const res = await h().post("/api/v1/clusters", { name: "us-east-a", region: "us-east-1" });
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({ name: "us-east-a", region: "us-east-1", node_count: 0, gpu_count: 0 });
    clusterId = res.body.data.id;
    expect(Number.isInteger(clusterId)).toBe(true);
    const list = await h().get("/api/v1/clusters");
    expect(list.body.data.map((c: any) => c.id)).toContain(clusterId);
    expect(list.body.meta.total).toBeGreaterThanOrEqual(1);
    const patched = await h().patch(`/api/v1/clusters/${clusterId}`, { region: "us-east-2" });
    expect(patched.body.data.region).toBe("us-east-2");
    expect((await h().get(`/api/v1/clusters/${clusterId}`)).body.data.region).toBe("us-east-2");
  });

  it("refuses a cluster without a name, a duplicate name and an unknown id", async () => {
    const missing = await h().post("/api/v1/clusters", { region: "x" });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toContain("name");
    const dup = await h().post("/api/v1/clusters", { name: "us-east-a" });
    expect(dup.status).toBe(409);
    expect(dup.body.error).toContain("name");
    expect((await h().get("/api/v1/clusters/999999")).status).toBe(404);
    expect((await h().get("/api/v1/clusters/abc")).status).toBe(400);
  });

  it("registers a node; a missing cluster is a 400 naming cluster_id, a taken hostname a 409", async () => {
    const res = await h().post("/api/v1/nodes", {
      cluster_id: clusterId,
      hostname: "gpu-node-01",
      ip_address: "10.0.0.11",
      total_gpus: 8,
      cpu_cores: 96,
      ram_gb: 1024,
    });
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({
      cluster_id: clusterId,
      hostname: "gpu-node-01",
      status: "active",
      total_gpus: 8,
    });
    nodeId = res.body.data.id;
    const bad = await h().post("/api/v1/nodes", { cluster_id: 999999, hostname: "gpu-node-02" });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain("cluster_id");
    const taken = await h().post("/api/v1/nodes", { cluster_id: clusterId, hostname: "gpu-node-01" });
    expect(taken.status).toBe(409);
    expect(taken.body.error).toContain("hostname");
    const badIp = await h().post("/api/v1/nodes", { cluster_id: clusterId, hostname: "n3", ip_address: "nope" });
    expect(badIp.status).toBe(400);
    expect(badIp.body.error).toContain("ip_address");
    const list = await h().get(`/api/v1/nodes?cluster_id=${clusterId}`);
    expect(list.body.data.map((n: any) => n.hostname)).toEqual(["gpu-node-01"]);
    const patched = await h().patch(`/api/v1/nodes/${nodeId}`, { ram_gb: 2048 });
    expect(patched.body.data.ram_gb).toBe(2048);
    const movedToNowhere = await h().patch(`/api/v1/nodes/${nodeId}`, { cluster_id: 999999 });
    expect(movedToNowhere.status).toBe(400);
  });

  it("registers GPUs, filling missing indexes, and refuses an index twice", async () => {
    const res = await h().post("/api/v1/gpus", {
      node_id: nodeId,
      gpus: [
        { gpu_index: 0, model: "NVIDIA H100 80GB HBM3", vram_mb: 81559 },
        { gpu_index: 1, model: "NVIDIA H100 80GB HBM3", vram_mb: 81559 },
        { model: "NVIDIA H100 80GB HBM3", vram_mb: 81559 },
      ],
    });
    expect(res.status).toBe(201);
    expect(res.body.data.map((g: any) => g.gpu_index)).toEqual([0, 1, 2]);
    expect(res.body.data[0]).toMatchObject({ node_id: nodeId, cluster_id: clusterId, state: "idle", allocation: null });
    const twiceInBody = await h().post("/api/v1/gpus", { node_id: nodeId, gpus: [{ gpu_index: 5 }, { gpu_index: 5 }] });
    expect(twiceInBody.status).toBe(400);
    expect(twiceInBody.body.error).toContain("gpu_index");
    const already = await h().post("/api/v1/gpus", { node_id: nodeId, gpus: [{ gpu_index: 1, model: "x" }] });
    expect(already.status).toBe(409);
    expect(already.body.error).toContain("gpu_index");
    const noNode = await h().post("/api/v1/gpus", { node_id: 999999, gpus: [{ gpu_index: 0 }] });
    expect(noNode.status).toBe(400);
    expect(noNode.body.error).toContain("node_id");
    const empty = await h().post("/api/v1/gpus", { node_id: nodeId, gpus: [] });
    expect(empty.status).toBe(400);
    const cluster = await h().get(`/api/v1/clusters/${clusterId}`);
    expect(cluster.body.data).toMatchObject({ node_count: 1, gpu_count: 3 });
  });

  it("derives each GPU's state: allocated, unhealthy, draining, idle", async () => {
    const gpus = (await h().get(`/api/v1/gpus?node_id=${nodeId}`)).body.data.sort(
      (a: any, b: any) => a.gpu_index - b.gpu_index,
    );
    expect(gpus.map((g: any) => g.state)).toEqual(["idle", "idle", "idle"]);
    await h().ctx.db.insert(gpuAllocations).values({ gpuId: gpus[0].id, nodeId, tenantId: null, jobId: 42 });
    await h().ctx.db.execute(`update gpus set health = 'unhealthy' where id = ${gpus[1].id}` as any);
    const got = await h().get(`/api/v1/gpus/${gpus[0].id}`);
    expect(got.body.data).toMatchObject({ state: "allocated", allocation: { job_id: 42, tenant_id: null } });
    expect((await h().get(`/api/v1/gpus/${gpus[1].id}`)).body.data.state).toBe("unhealthy");
    const cordoned = await h().post(`/api/v1/nodes/${nodeId}/cordon`);
    expect(cordoned.body.data.status).toBe("cordoned");
    expect((await h().get(`/api/v1/gpus/${gpus[2].id}`)).body.data.state).toBe("draining");
    expect((await h().post(`/api/v1/nodes/${nodeId}/drain`)).body.data.status).toBe("draining");
    const idle = await h().get(`/api/v1/gpus?state=draining&node_id=${nodeId}`);
    expect(idle.body.data.map((g: any) => g.id)).toEqual([gpus[2].id]);
    expect((await h().post(`/api/v1/nodes/${nodeId}/uncordon`)).body.data.status).toBe("active");
    expect((await h().get(`/api/v1/gpus/${gpus[2].id}`)).body.data.state).toBe("idle");
    expect((await h().get("/api/v1/gpus/999999")).status).toBe(404);
  });

  it("refuses to delete a cluster with nodes or a node with allocated GPUs (409)", async () => {
    const cluster = await h().del(`/api/v1/clusters/${clusterId}`);
    expect(cluster.status).toBe(409);
    expect(cluster.body.error).toContain("node");
    const node = await h().del(`/api/v1/nodes/${nodeId}`);
    expect(node.status).toBe(409);
    expect(node.body.error).toContain("allocated");
    await h().ctx.db.delete(gpuAllocations);
    expect((await h().del(`/api/v1/nodes/${nodeId}`)).status).toBe(200);
    expect((await h().get(`/api/v1/nodes/${nodeId}`)).status).toBe(404);
    expect((await h().get(`/api/v1/gpus?node_id=${nodeId}`)).body.data).toEqual([]);
    expect((await h().del(`/api/v1/clusters/${clusterId}`)).status).toBe(200);
    expect((await h().get(`/api/v1/clusters/${clusterId}`)).status).toBe(404);
  });

  it("keeps the fleet to operators: a tenant key gets 403", async () => {
    const { key } = await h().signup();
    expect((await h().get("/api/v1/clusters", key)).status).toBe(403);
    expect((await h().post("/api/v1/clusters", { name: "mine" }, key)).status).toBe(403);
    expect((await h().get("/api/v1/gpus", key)).status).toBe(403);
    expect((await h().get("/api/v1/nodes", null)).status).toBe(401);
  });
});
