import { eq } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { events, instances } from "../../src/db/schema/index.js";
import { appendLedgerEntry } from "../../src/domain/billing/ledger.js";
import { providers } from "../../src/domain/placement/registry.js";
import { describeEachDb } from "../helpers/harness.js";
import { type Receiver, startReceiver } from "../webhooks/receiver.js";

const publicKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILxA5xHg3GjVQHtkM62t+boNMOKBUfiC6hqEAARLVYDq alice@laptop";
// The default catalog's eu-central-1 has no B200s: a queue to wait in.
const region = "eu-central-1";

describeEachDb(
  "waitlist",
  (h) => {
    let rx: Receiver;
    beforeAll(async () => {
      rx = await startReceiver();
    });
    afterAll(() => rx.close());
    const sim = () => providers(h().ctx).simulator!;
    beforeEach(() => sim().setCapacity(region, "B200", 0));

    /** A customer with credits above the $20 minimum and an SSH key. */
    async function customer(creditsUsd = "100") {
      const t = await h().signup();
      if (creditsUsd !== "0") {
        const grant = await h().post(`/api/v1/tenants/${t.tenantId}/credits`, { amount_usd: creditsUsd });
        expect(grant.status).toBe(201);
      }
      const key = await h().post("/api/v1/ssh-keys", { name: "laptop", public_key: publicKey }, t.key);
      expect(key.status).toBe(201);
      return { ...t, sshKeyId: key.body.data.id as string };
    }
    const join = (key: string, body: Record<string, unknown>) => h().post("/api/v1/waitlist", body, key);
    const deployBody = (sshKeyId: string, hostname = "train-1") => ({
      image: "ubuntu-24.04-cuda-12.8-cluster",
      hostname,
      ssh_key_ids: [sshKeyId],
    });

    it("queues first come first served across plan ids and cluster types, and shows each entry's position", async () => {
      const a = await customer("0");
      const b = await customer("0");
      const first = await join(a.key, { plan_id: "GPU.B200.1x", region });
      expect(first.status).toBe(201);
      expect(first.body.data).toMatchObject({
        status: "waiting",
        mode: "notify",
        position: 1,
        instance_type: "GPU.B200.1x",
      });
      const second = await join(b.key, { cluster_type: "1B200.200S.30V", location: region });
      expect(second.status).toBe(201);
      expect(second.body.data.position).toBe(2);
      expect(second.body.data.instance_type_id).toBe(first.body.data.instance_type_id);
      const other = await join(b.key, { instance_type: "GPU.B200.1x", region: "ICE-01" }); // another queue
      expect(other.body.data.position).toBe(1);
      expect((await join(a.key, { plan_id: "GPU.B200.1x", region })).status).toBe(409); // already notified-in-waiting
      const cancelled = await h().del(`/api/v1/waitlist/${first.body.data.id}`, a.key);
      expect(cancelled.body.data).toMatchObject({ status: "cancelled", position: null });
      expect((await h().get(`/api/v1/waitlist/${second.body.data.id}`, b.key)).body.data.position).toBe(1);
      const listed = await h().get("/api/v1/waitlist", b.key);
      expect(listed.body.data.map((e: any) => e.id)).toEqual([other.body.data.id, second.body.data.id]);
      await h().del(`/api/v1/waitlist/${second.body.data.id}`, b.key);
      await h().del(`/api/v1/waitlist/${other.body.data.id}`, b.key);
    });

    it("refuses unknown types and regions, and auto-deploys that could never deploy", async () => {
      const c = await customer("0");
      expect((await join(c.key, { plan_id: "GPU.Z999.1x", region })).status).toBe(400);
      expect((await join(c.key, { plan_id: "GPU.B200.1x", region: "moon-1" })).status).toBe(400);
      const missing = await join(c.key, { region });
      expect(missing.status).toBe(400);
      expect(missing.body.error).toContain("instance_type");
      const noDeploy = await join(c.key, { plan_id: "GPU.B200.1x", region, mode: "auto_deploy" });
      expect(noDeploy.status).toBe(400);
      expect(noDeploy.body.error).toContain("deploy");
      const oldImage = await join(c.key, {
        plan_id: "GPU.B200.1x",
        region,
        mode: "auto_deploy",
        deploy: { ...deployBody(c.sshKeyId), image: "ubuntu-22.04-cuda-12.4-cluster" },
      });
      expect(oldImage.status).toBe(400);
      expect(oldImage.body.error).toContain("B200");
      const other = await customer("0");
      const foreignKey = await join(c.key, {
        plan_id: "GPU.B200.1x",
        region,
        mode: "auto_deploy",
        deploy: deployBody(other.sshKeyId),
      });
      expect(foreignKey.status).toBe(400);
    });

    it("answers 404 for another tenant's entry", async () => {
      const a = await customer("0");
      const b = await customer("0");
      const entry = (await join(a.key, { plan_id: "GPU.B200.1x", region })).body.data;
      expect((await h().get(`/api/v1/waitlist/${entry.id}`, b.key)).status).toBe(404);
      expect((await h().del(`/api/v1/waitlist/${entry.id}`, b.key)).status).toBe(404);
      expect((await h().get("/api/v1/waitlist", b.key)).body.data).toEqual([]);
      await h().del(`/api/v1/waitlist/${entry.id}`, a.key);
    });

    it("notifies through a signed waitlist.available webhook when capacity opens", async () => {
      const c = await customer("0");
      const hook = await h().post("/api/v1/webhooks", { url: rx.url("/wl"), events: ["waitlist.*"] }, c.key);
      const entry = (await join(c.key, { plan_id: "GPU.B200.1x", region })).body.data;
      await h().runWorker("waitlist");
      expect((await h().get(`/api/v1/waitlist/${entry.id}`, c.key)).body.data.status).toBe("waiting");
      sim().setCapacity(region, "B200", 2);
      expect(await h().runWorker("waitlist")).toMatchObject({ notified: 1 });
      const after = (await h().get(`/api/v1/waitlist/${entry.id}`, c.key)).body.data;
      expect(after).toMatchObject({ status: "notified", position: null });
      await h().runWorker("webhook-delivery");
      const [got] = rx.at("/wl");
      const payload = new Webhook(hook.body.data.secret).verify(got.body, got.headers as any) as any;
      expect(payload.type).toBe("waitlist.available");
      expect(payload.data).toMatchObject({ waitlist_id: entry.id, instance_type: "GPU.B200.1x", region, available: 2 });
    });

    it("auto-deploys in order when capacity opens; an entry that cannot pay fails with the reason and the queue moves on", async () => {
      const poor = await customer("0"); // $5 sign-up credit, spent down to $1: below a B200's first hour ($4.99)
      await h().ctx.db.transaction((tx) =>
        appendLedgerEntry(tx, {
          tenantId: poor.tenantId,
          kind: "adjustment",
          amountMicros: -4_000_000n,
          description: "spent",
        }),
      );
      const rich = await customer("100");
      const failing = (
        await join(poor.key, { plan_id: "GPU.B200.1x", region, mode: "auto_deploy", deploy: deployBody(poor.sshKeyId) })
      ).body.data;
      const winning = (
        await join(rich.key, {
          cluster_type: "1B200.200S.30V",
          region,
          mode: "auto_deploy",
          deploy: deployBody(rich.sshKeyId, "wl-run"),
        })
      ).body.data;
      const third = (
        await join(rich.key, { plan_id: "GPU.B200.1x", region, mode: "auto_deploy", deploy: deployBody(rich.sshKeyId) })
      ).body.data;
      expect([failing.position, winning.position, third.position]).toEqual([1, 2, 3]);
      expect(winning.deploy).toMatchObject({ cluster_type: "1B200.200S.30V", location: region, hostname: "wl-run" });
      await h().runWorker("waitlist");
      expect((await h().get(`/api/v1/waitlist/${winning.id}`, rich.key)).body.data.status).toBe("waiting");

      sim().setCapacity(region, "B200", 1);
      expect(await h().runWorker("waitlist")).toMatchObject({ deployed: 1, failed: 1 });
      const failed = (await h().get(`/api/v1/waitlist/${failing.id}`, poor.key)).body.data;
      expect(failed.status).toBe("failed");
      expect(failed.status_reason).toContain("INSUFFICIENT_CREDITS");
      const deployed = (await h().get(`/api/v1/waitlist/${winning.id}`, rich.key)).body.data;
      expect(deployed).toMatchObject({ status: "deployed", position: null });
      const [instance] = await h().ctx.db.select().from(instances).where(eq(instances.id, deployed.instance_id));
      expect(instance).toMatchObject({ tenantId: rich.tenantId, name: "wl-run", regionId: region, gpuModel: "B200" });
      // The capacity is taken: the third waits, now first in line.
      expect((await h().get(`/api/v1/waitlist/${third.id}`, rich.key)).body.data).toMatchObject({
        status: "waiting",
        position: 1,
      });
      const types = (await h().ctx.db.select().from(events).where(eq(events.tenantId, poor.tenantId))).map(
        (e) => e.type,
      );
      expect(types).toContain("waitlist.failed");
      const richTypes = (await h().ctx.db.select().from(events).where(eq(events.tenantId, rich.tenantId))).map(
        (e) => e.type,
      );
      expect(richTypes).toContain("waitlist.deployed");
      expect(richTypes).toContain("instance.ordered");
      await h().del(`/api/v1/waitlist/${third.id}`, rich.key);
    });
  },
  { manualClock: true },
);
