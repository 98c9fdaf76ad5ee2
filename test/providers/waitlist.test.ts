import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { events, instances } from "../../src/db/schema/index.js";
import { providers } from "../../src/domain/placement/registry.js";
import { describeEachDb, type Harness } from "../helpers/harness.js";
import { customer } from "../instances/fixtures.js";
import { RunPodFake } from "./fakes/runpod.js";
import { connect, tick, view } from "./helpers.js";

const runpod = await new RunPodFake().start();
afterAll(() => runpod.stop());
const H100 = "NVIDIA H100 80GB HBM3";

/** The cloud's type list is asked again now (the API reuses it for a few seconds), after any ask under way. */
async function refresh(h: Harness) {
  const upstream = providers(h.ctx).upstream!;
  await upstream.refreshAvailability(h.ctx, "runpod");
  await upstream.refreshAvailability(h.ctx, "runpod");
}

async function eventTypes(h: Harness, tenantId: number, prefix: string) {
  const rows = await h.ctx.db.select().from(events).where(eq(events.tenantId, tenantId)).orderBy(events.id);
  return rows.filter((e) => e.type.startsWith(prefix)).map((e) => ({ type: e.type, data: e.data as any }));
}

/**
 * An order that waits for capacity (`waitlist: true`) on a resold cloud is a waitlist entry: listed with its
 * position, deployed (launched) when the cloud has room again, never deployed a second time by the waitlist loop,
 * failed or cancelled with its order.
 */
describeEachDb(
  "resold cloud out of capacity: the waiting order is a waitlist entry",
  (h) => {
    beforeAll(() => {
      runpod.reset();
    });

    it("lists the waiting order with its position, launches it (once) when RunPod has room, and says waitlist.deployed", async () => {
      await connect(h(), { runpod });
      runpod.setStock(H100, "NONE");
      await refresh(h());
      const { key, sshKeyId, tenantId } = await customer(h());
      // Nothing reports room: without waitlist the create is a 409; with it, an order that waits.
      const refused = await h().post(
        "/api/v1/instances",
        { name: "pod", planId: "GPU.H100.1x", templateSlug: "pytorch-cuda", region: "EU-RO-1", sshKeyId },
        key,
      );
      expect(refused.status).toBe(409);
      const created = await h().post(
        "/api/v1/instances",
        {
          name: "pod",
          planId: "GPU.H100.1x",
          templateSlug: "pytorch-cuda",
          region: "EU-RO-1",
          sshKeyId,
          waitlist: true,
        },
        key,
      );
      expect(created.status).toBe(201);
      const id = created.body.data.id as string;
      expect(await tick(h(), "provisioning")).toMatchObject({ waitlisted: 1, launched: 0 });
      expect(await view(h(), id, key)).toMatchObject({
        status: "ordered",
        statusReason: expect.stringMatching(/waiting for capacity .*no longer any instances available/),
      });

      // Listed in the waitlist, holding the order, first in its queue; a later customer's notify entry is second.
      const [entry] = (await h().get("/api/v1/waitlist", key)).body.data;
      expect(entry).toMatchObject({
        status: "waiting",
        mode: "auto_deploy",
        position: 1,
        instance_id: id,
        region: "EU-RO-1",
        instance_type: "GPU.H100.1x",
        deploy: null,
      });
      const other = await customer(h());
      const notify = await h().post(
        "/api/v1/waitlist",
        { plan_id: "GPU.H100.1x", region: "EU-RO-1", mode: "notify" },
        other.key,
      );
      expect(notify.body.data.position).toBe(2);
      // A second retry while RunPod is still out: the same entry, same place.
      h().clock.advance(61_000);
      expect(await tick(h(), "provisioning")).toMatchObject({ waitlisted: 1 });
      expect((await h().get("/api/v1/waitlist", key)).body.data).toMatchObject([{ id: entry.id, position: 1 }]);
      expect(await h().runWorker("waitlist")).toMatchObject({ retried: 0, deployed: 0, notified: 0 });

      // RunPod has H100s again. The waitlist loop sees the room and wakes the order (well before its 60 s retry)
      // instead of deploying a second instance; the room it takes is not offered to the next in line.
      runpod.setStock(H100, "HIGH");
      await refresh(h());
      expect(await h().runWorker("waitlist")).toMatchObject({ retried: 1, deployed: 0, notified: 0 });
      expect(await tick(h(), "provisioning")).toMatchObject({ launched: 1 });
      expect(runpod.byName(`gp-${id}`)).toHaveLength(1);
      expect((await view(h(), id, key)).status).toBe("provisioning");
      const done = (await h().get(`/api/v1/waitlist/${entry.id}`, key)).body.data;
      expect(done).toMatchObject({ status: "deployed", position: null, instance_id: id });
      expect(done.status_reason).toMatch(/launched on runpod in EU-RO-1/);
      const ours = await h()
        .ctx.db.select()
        .from(instances)
        .where(and(eq(instances.tenantId, tenantId)));
      expect(ours.map((i) => i.id).sort()).toEqual([id, refused.body.data?.id].filter(Boolean).sort());
      expect(await eventTypes(h(), tenantId, "waitlist.")).toEqual([
        {
          type: "waitlist.deployed",
          data: expect.objectContaining({ waitlist_id: entry.id, instance_id: id, provider: "runpod" }),
        },
      ]);
      // The next in line moves up and is told now.
      expect((await h().get(`/api/v1/waitlist/${notify.body.data.id}`, other.key)).body.data.position).toBe(1);
      expect(await h().runWorker("waitlist")).toMatchObject({ notified: 1, retried: 0 });
      expect(runpod.live()).toHaveLength(1);
    });

    it("takes waitlist on seed 001's deploy route, and a delete of the waiting deployment cancels its entry", async () => {
      await connect(h(), { runpod });
      runpod.setStock(H100, "NONE");
      await refresh(h());
      const { key, sshKeyId, tenantId } = await customer(h());
      const deployed = await h().post(
        "/api/v1/deployments/clusters",
        {
          cluster_type: "1H100.80S.30V",
          image: "pytorch-cuda",
          hostname: "waiter",
          ssh_key_ids: [sshKeyId],
          location: "EU-RO-1",
          waitlist: true,
        },
        key,
      );
      expect(deployed.status).toBe(201);
      const id = deployed.body.data.id as string;
      expect(await tick(h(), "provisioning")).toMatchObject({ waitlisted: 1 });
      const [entry] = (await h().get("/api/v1/waitlist", key)).body.data;
      expect(entry).toMatchObject({ status: "waiting", instance_id: id, instance_type: "1H100.80S.30V", position: 1 });

      expect((await h().del(`/api/v1/deployments/${id}`, key)).status).toBe(200);
      expect((await view(h(), id, key)).status).toBe("deleted");
      expect((await h().get(`/api/v1/waitlist/${entry.id}`, key)).body.data).toMatchObject({
        status: "cancelled",
        status_reason: "the order was deleted",
      });
      runpod.setStock(H100, "HIGH");
      await refresh(h());
      h().clock.advance(61_000);
      expect(await h().runWorker("waitlist")).toMatchObject({ retried: 0, deployed: 0 });
      expect(await tick(h(), "provisioning")).toMatchObject({ launched: 0 });
      expect(runpod.byName(`gp-${id}`)).toHaveLength(0);
      expect(await eventTypes(h(), tenantId, "waitlist.")).toEqual([]);
    });

    it("leaving the waitlist deletes the waiting order; a non-capacity refusal fails the entry with waitlist.failed", async () => {
      await connect(h(), { runpod });
      runpod.setStock(H100, "NONE");
      await refresh(h());
      const { key, sshKeyId, tenantId } = await customer(h());
      const order = (name: string) =>
        h().post(
          "/api/v1/instances",
          { name, planId: "GPU.H100.1x", templateSlug: "pytorch-cuda", region: "EU-RO-1", sshKeyId, waitlist: true },
          key,
        );
      const left = (await order("left")).body.data.id as string;
      expect(await tick(h(), "provisioning")).toMatchObject({ waitlisted: 1 });
      const broken = (await order("broken")).body.data.id as string;
      expect(await tick(h(), "provisioning")).toMatchObject({ waitlisted: 1 });
      const entries = (await h().get("/api/v1/waitlist", key)).body.data;
      const leftEntry = entries.find((e: any) => e.instance_id === left);
      const brokenEntry = entries.find((e: any) => e.instance_id === broken);
      expect([leftEntry.position, brokenEntry.position]).toEqual([1, 2]);

      const cancelled = await h().del(`/api/v1/waitlist/${leftEntry.id}`, key);
      expect(cancelled.body.data).toMatchObject({ status: "cancelled", status_reason: "cancelled by the customer" });
      expect(await view(h(), left, key)).toMatchObject({
        status: "deleted",
        statusReason: expect.stringMatching(/left the waitlist/),
      });
      expect((await h().get(`/api/v1/waitlist/${brokenEntry.id}`, key)).body.data.position).toBe(1);

      // RunPod has room, but refuses this launch for another reason: the order fails, and so does its entry.
      runpod.setStock(H100, "HIGH");
      runpod.fault({
        method: "POST",
        path: "/v2/pods",
        answer: { status: 400, body: { title: "Bad Request", status: 400, detail: "invalid image reference" } },
      });
      h().clock.advance(61_000);
      expect(await tick(h(), "provisioning")).toMatchObject({ failed: 1 });
      expect((await view(h(), broken, key)).status).toBe("failed");
      const failed = (await h().get(`/api/v1/waitlist/${brokenEntry.id}`, key)).body.data;
      expect(failed).toMatchObject({ status: "failed", instance_id: broken });
      expect(failed.status_reason).toMatch(/invalid image reference/);
      expect(await eventTypes(h(), tenantId, "waitlist.")).toEqual([
        {
          type: "waitlist.failed",
          data: expect.objectContaining({ waitlist_id: brokenEntry.id, reason: expect.stringMatching(/invalid/) }),
        },
      ]);
      expect(runpod.live().filter((p) => p.name === `gp-${left}` || p.name === `gp-${broken}`)).toHaveLength(0);
    });
  },
  {
    manualClock: true,
    env: {
      GPUPLANE_SIMULATOR: "off",
      ...runpod.env(),
    },
  },
);
