import { randomBytes } from "node:crypto";
import { expect, it } from "vitest";
import { describeEachDb } from "../helpers/harness.js";
import { fund } from "../instances/fixtures.js";

/**
 * Images on fleet nodes, with the agent played over HTTP: the node reports the images its runtime lists (join,
 * heartbeat), the server answers which it wants, places an instance only where its image is or may be pulled, and
 * refuses one whose image no node can have. Disk: the storage verdict a node reports is the instance's `disk`.
 */
describeEachDb("images on fleet nodes", (h) => {
  const run = randomBytes(3).toString("hex");
  const region = `IMG-${run}`.toUpperCase();
  const image = `img-${run}`;
  const ref = `registry.internal:5000/gpuplane/${image}:1`;
  let clusterId: number;

  const ext4 = { driver: "overlay", backing_fs: "ext4", disk_limit: false, reason: "overlay on ext4: not enforced" };
  const xfs = { driver: "overlay", backing_fs: "xfs", disk_limit: true, reason: "overlay on xfs with pquota" };

  async function node(
    images: Record<string, unknown> | null,
    storage: Record<string, unknown> = ext4,
    cluster?: number,
  ) {
    if (!clusterId) {
      expect((await h().post("/api/v1/regions", { id: region, name: "Images" })).status).toBe(201);
      clusterId = (await h().post("/api/v1/clusters", { name: `img-${run}-${h().kind}`, region })).body.data.id;
      const created = await h().post("/api/v1/images", {
        ...{ id: image, name: "Test", os: "ubuntu", compatible_gpus: ["H100"], oci_ref: ref },
      });
      expect(created.status).toBe(201);
    }
    const token = (await h().post(`/api/v1/clusters/${cluster ?? clusterId}/join-tokens`, {})).body.data.token;
    const hostname = `img-${randomBytes(4).toString("hex")}`;
    const gpus = [{ index: 0, uuid: `GPU-${hostname}`, model: "NVIDIA H100 80GB HBM3" }];
    const joined = await h().post("/api/v1/agent/join", { token, hostname, gpus, images, storage }, null);
    expect(joined.status).toBe(201);
    return { id: joined.body.data.node_id as number, key: joined.body.data.credential as string, joined };
  }

  async function customer() {
    const account = await h().signup();
    await fund(h(), account.tenantId);
    const key = await h().post(
      "/api/v1/ssh-keys",
      { name: "k", public_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB3ZYrhlDkQ9S0ZydS4UhV9Q2bqkMZ0i0Ji1jv6m0Q5x u" },
      account.key,
    );
    return { key: account.key, sshKeyId: key.body.data.id as string };
  }
  const deploy = (c: { key: string; sshKeyId: string }) =>
    h().post(
      "/api/v1/deployments/clusters",
      { cluster_type: "1H100.80S.30V", image, hostname: "x", ssh_key_ids: [c.sshKeyId], location: region },
      c.key,
    );

  it("an instance whose image no node has nor can pull is refused at create, naming it and the fix; nothing is left", async () => {
    const never = await node({ present: ["localhost/gpuplane/test-sshd:latest"], pull: "never" });
    expect(never.joined.body.data.images).toContain(ref);
    const tenant = await customer();
    const before = (await h().get("/api/v1/deployments", tenant.key)).body.data;
    const refused = await deploy(tenant);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toContain(`image '${image}' (${ref}) is on no node in ${region}`);
    expect(refused.body.error).toContain("podman load");
    expect(refused.body.error).toContain("oci_ref");
    expect((await h().get("/api/v1/deployments", tenant.key)).body.data).toEqual(before);

    const view = (await h().get(`/api/v1/nodes/${never.id}`)).body.data;
    expect(view.images.pull).toBe("never");
    expect(view.images.catalog).toContainEqual({ image_id: image, oci_ref: ref, state: "missing", error: null });
    expect(view.storage).toEqual(ext4);

    // The operator loads it on the node (podman load): the next heartbeat reports it, and the create goes through.
    const beat = await h().post(
      "/api/v1/agent/heartbeat",
      { gpus: [{ index: 0, health: "healthy" }], images: { present: [ref], pull: "never" } },
      never.key,
    );
    expect(beat.status).toBe(200);
    expect(beat.body.data.images).toContain(ref);
    const placed = await deploy(tenant);
    expect(placed.status).toBe(201);
    expect(placed.body.data.disk).toEqual({ size_gb: expect.any(Number), enforced: false });
  });

  it("a failed pull counts as missing; a node that has the image is chosen over one that may pull it", async () => {
    const failed = await node({
      present: [],
      pull: "missing",
      failed: [{ ref, error: "pinging container registry registry.internal:5000: connection refused" }],
    });
    const pulling = await node({ present: [], pull: "missing" }, ext4);
    const has = await node(
      { present: [ref.replace("registry.internal:5000/", "REGISTRY.internal:5000/")], pull: "never" },
      xfs,
    );
    const view = (await h().get(`/api/v1/nodes/${failed.id}`)).body.data;
    expect(view.images.catalog).toContainEqual({
      ...{ image_id: image, oci_ref: ref, state: "failed" },
      error: "pinging container registry registry.internal:5000: connection refused",
    });
    expect((await h().get(`/api/v1/nodes/${pulling.id}`)).body.data.images.catalog).toContainEqual(
      expect.objectContaining({ image_id: image, state: "pullable" }),
    );
    const tenant = await customer();
    const first = await deploy(tenant);
    expect(first.status).toBe(201);
    const nodeOf = async (id: string) =>
      (await h().get(`/api/v1/instances/${id}`, tenant.key)).body.data as Record<string, unknown>;
    expect((await nodeOf(first.body.data.id)).disk).toEqual({ sizeGb: expect.any(Number), enforced: true });
    const assigned = await h().get("/api/v1/agent/assignments", has.key);
    expect(assigned.body.data.instances.map((i: { id: string }) => i.id)).toEqual([first.body.data.id]);
    expect(assigned.body.data.instances[0].disk_gb).toBeGreaterThan(0);
    // The node with the image is full: the one that may pull it is next; the one whose pull failed never.
    const second = await deploy(tenant);
    expect(second.status).toBe(201);
    const onPulling = await h().get("/api/v1/agent/assignments", pulling.key);
    expect(onPulling.body.data.instances.map((i: { id: string }) => i.id)).toEqual([second.body.data.id]);
    const third = await deploy(tenant);
    expect(third.status).toBe(409);
    expect(third.body.error).toContain("no capacity");
    expect((await h().get("/api/v1/agent/assignments", failed.key)).body.data.instances).toEqual([]);
  });

  it("a job whose image no node of its cluster has waits with an image: reason", async () => {
    const other = (await h().post("/api/v1/clusters", { name: `img-jobs-${run}-${h().kind}`, region })).body.data.id;
    await node({ present: [], pull: "never" }, ext4, other);
    const submitted = await h().post("/api/v1/jobs", {
      ...{ cluster_id: other, name: "j", command: "true", gpu_count: 1 },
      image: `registry.internal:5000/none-${run}:1`,
    });
    expect(submitted.status).toBe(201);
    await h().runWorker("scheduler");
    const job = (await h().get(`/api/v1/jobs/${submitted.body.data.id}`)).body.data;
    expect(job.status).toBe("blocked");
    expect(job.block_reason).toMatch(/^image: registry\.internal:5000\/none-.*:1 is on no node of cluster/);
  });
});
