import { expect, it } from "vitest";
import { describeEachDb } from "../helpers/harness.js";
import { customer } from "../instances/fixtures.js";

describeEachDb(
  "volumes",
  (h) => {
    const deploy = (key: string, sshKeyId: string, extra: Record<string, unknown> = {}) =>
      h().post(
        "/api/v1/deployments/clusters",
        {
          cluster_type: "1H100.80S.30V",
          image: "ubuntu-22.04-cuda-12.4-cluster",
          hostname: "vol-host",
          ssh_key_ids: [sshKeyId],
          location: "FIN-01",
          ...extra,
        },
        key,
      );

    it("creates a priced volume, attaches it later, refuses delete while attached, and outlives its instance", async () => {
      const { key, sshKeyId } = await customer(h());
      const vol = await h().post(
        "/api/v1/volumes",
        { name: "data", size_gb: 500, type: "nvme", region: "FIN-01" },
        key,
      );
      expect(vol.status).toBe(201);
      expect(vol.body.data).toMatchObject({
        status: "available",
        price_per_gb_month: "0.200000",
        price_per_month_usd: 100,
      });
      const inst = await deploy(key, sshKeyId);
      const attached = await h().post(
        `/api/v1/instances/${inst.body.data.id}/volumes`,
        { volume_id: vol.body.data.id },
        key,
      );
      expect(attached.status).toBe(200);
      expect(attached.body.data).toMatchObject({ status: "attached", instance_id: inst.body.data.id });
      expect((await h().get(`/api/v1/deployments/${inst.body.data.id}`, key)).body.data.volume_ids).toEqual([
        vol.body.data.id,
      ]);
      const refused = await h().del(`/api/v1/volumes/${vol.body.data.id}`, key);
      expect(refused.status).toBe(409);
      expect(refused.body.error).toContain("detach it first");
      await h().del(`/api/v1/deployments/${inst.body.data.id}`, key);
      const after = await h().get(`/api/v1/volumes/${vol.body.data.id}`, key);
      expect(after.body.data).toMatchObject({ status: "available", instance_id: null });
      expect((await h().del(`/api/v1/volumes/${vol.body.data.id}`, key)).body.data.status).toBe("deleted");
      expect((await h().get("/api/v1/volumes", key)).body.data).toEqual([]);
    });

    it("attaches existing and new volumes at deploy time, and detaches", async () => {
      const { key, sshKeyId } = await customer(h());
      const vol = await h().post(
        "/api/v1/volumes",
        { name: "old", size_gb: 100, type: "hdd", location: "FIN-01" },
        key,
      );
      const inst = await deploy(key, sshKeyId, {
        volume_ids: [vol.body.data.id],
        new_volumes: [{ name: "scratch", size_gb: 200, type: "nvme" }],
      });
      expect(inst.status).toBe(201);
      expect(inst.body.data.volume_ids).toHaveLength(2);
      const detached = await h().del(`/api/v1/instances/${inst.body.data.id}/volumes/${vol.body.data.id}`, key);
      expect(detached.body.data.status).toBe("available");
      expect((await h().get(`/api/v1/instances/${inst.body.data.id}`, key)).body.data.volumeIds).toHaveLength(1);
    });

    it("refuses a volume from another region, and one already attached elsewhere", async () => {
      const { key, sshKeyId } = await customer(h());
      const far = await h().post("/api/v1/volumes", { name: "far", size_gb: 10, region: "us-east-1" }, key);
      const inst = await deploy(key, sshKeyId);
      const res = await h().post(
        `/api/v1/instances/${inst.body.data.id}/volumes`,
        { volume_id: far.body.data.id },
        key,
      );
      expect(res.status).toBe(400);
      expect(res.body.error).toContain("own region");
      const near = await h().post("/api/v1/volumes", { name: "near", size_gb: 10, region: "FIN-01" }, key);
      await h().post(`/api/v1/instances/${inst.body.data.id}/volumes`, { volume_id: near.body.data.id }, key);
      const other = await deploy(key, sshKeyId, { hostname: "other" });
      const twice = await h().post(
        `/api/v1/instances/${other.body.data.id}/volumes`,
        { volume_id: near.body.data.id },
        key,
      );
      expect(twice.status).toBe(409);
      const bad = await h().post("/api/v1/volumes", { name: "x", size_gb: 10, region: "MARS" }, key);
      expect(bad.status).toBe(400);
    });

    it("hides another tenant's volumes (404)", async () => {
      const a = await customer(h());
      const b = await customer(h());
      const vol = await h().post("/api/v1/volumes", { name: "a", size_gb: 10, region: "FIN-01" }, a.key);
      expect((await h().get(`/api/v1/volumes/${vol.body.data.id}`, b.key)).status).toBe(404);
      expect((await h().del(`/api/v1/volumes/${vol.body.data.id}`, b.key)).status).toBe(404);
      const inst = await deploy(b.key, b.sshKeyId);
      const res = await h().post(
        `/api/v1/instances/${inst.body.data.id}/volumes`,
        { volume_id: vol.body.data.id },
        b.key,
      );
      expect(res.status).toBe(400);
      expect(res.body.error).toContain("not found");
    });
  },
  { manualClock: true },
);
