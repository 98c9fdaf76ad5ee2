import { expect, it } from "vitest";
import { describeEachDb } from "../helpers/harness.js";
import { customer, syncStatus } from "./fixtures.js";

describeEachDb(
  "an instance's events and a launch without a name",
  (h) => {
    it("lists an instance's status history and volume changes newest first, paged, to its own tenant only", async () => {
      const c = await customer(h());
      const other = await customer(h());
      const created = await h().post(
        "/api/v1/instances",
        {
          name: "history",
          planId: "GPU.H100.1x",
          templateSlug: "pytorch-cuda",
          sshKeyId: c.sshKeyId,
          region: "FIN-01",
        },
        c.key,
      );
      expect(created.status, created.text).toBe(201);
      const id = created.body.data.id as string;
      // Another instance of the same tenant: its events are not this one's.
      const second = await h().post(
        "/api/v1/instances",
        { name: "elsewhere", planId: "GPU.H100.1x", templateSlug: "pytorch-cuda", sshKeyId: c.sshKeyId },
        c.key,
      );
      expect(second.status, second.text).toBe(201);
      await syncStatus(h());
      const volume = await h().post("/api/v1/volumes", { name: "data", size_gb: 10, region: "FIN-01" }, c.key);
      expect(volume.status, volume.text).toBe(201);
      expect(
        (await h().post(`/api/v1/instances/${id}/volumes`, { volume_id: volume.body.data.id }, c.key)).status,
      ).toBe(200);
      expect((await h().post(`/api/v1/instances/${id}/stop`, {}, c.key)).status).toBe(200);
      await syncStatus(h());

      const res = await h().get(`/api/v1/instances/${id}/events`, c.key);
      expect(res.status, res.text).toBe(200);
      const types = res.body.data.map((e: any) => e.type);
      expect(types).toEqual([
        "instance.stopped",
        "volume.attached",
        "instance.running",
        "instance.provisioning",
        "instance.ordered",
      ]);
      expect(res.body.meta.total).toBe(types.length);
      const running = res.body.data.find((e: any) => e.type === "instance.running");
      expect(running).toMatchObject({ status: "running", previous_status: "provisioning", volume_id: null });
      expect(res.body.data.find((e: any) => e.type === "volume.attached")).toMatchObject({
        status: null,
        volume_id: volume.body.data.id,
      });
      expect(Date.parse(running.created_at)).not.toBeNaN();

      // Paged like every list.
      const first = await h().get(`/api/v1/instances/${id}/events?limit=2`, c.key);
      expect(first.body.data.map((e: any) => e.type)).toEqual(types.slice(0, 2));
      expect(first.body.meta).toMatchObject({ has_more: true, total: types.length });
      const next = await h().get(`/api/v1/instances/${id}/events?limit=2&cursor=${first.body.meta.cursor}`, c.key);
      expect(next.body.data.map((e: any) => e.type)).toEqual(types.slice(2, 4));

      // Another tenant's instance is not found; the operator sees it.
      const foreign = await h().get(`/api/v1/instances/${id}/events`, other.key);
      expect(foreign.status).toBe(404);
      expect(foreign.text).not.toContain("instance.");
      const operator = await h().get(`/api/v1/instances/${id}/events`);
      expect(operator.body.data.map((e: any) => e.type)).toEqual(types);
    });

    it("launches without a name, giving the instance a generated one", async () => {
      const c = await customer(h());
      const res = await h().post(
        "/api/v1/instances",
        { planId: "GPU.H100.1x", templateSlug: "pytorch-cuda", sshKeyId: c.sshKeyId },
        c.key,
      );
      expect(res.status, res.text).toBe(201);
      expect(res.body.data.name).toMatch(/^gpu-[0-9a-f]{6}$/);
      // A name that is only spaces is still refused, by name.
      const blank = await h().post(
        "/api/v1/instances",
        { name: "  ", planId: "GPU.H100.1x", templateSlug: "pytorch-cuda", sshKeyId: c.sshKeyId },
        c.key,
      );
      expect(blank.status).toBe(400);
      expect(blank.text).toContain("name");
    });
  },
  { manualClock: true },
);
