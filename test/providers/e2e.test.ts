import { eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { instances } from "../../src/db/schema/index.js";
import { divRound } from "../../src/lib/money.js";
import { chargedFor } from "../billing/fixtures.js";
import { describeEachDb } from "../helpers/harness.js";
import { customer } from "../instances/fixtures.js";
import { E2eFake } from "./fakes/e2e.js";
import { connect, tick, view } from "./helpers.js";

const e2e = await new E2eFake().start();
afterAll(() => e2e.stop());
// Every request gpuplane sent and every answer the fake gave held to E2E's contract (from e2ectl).
afterEach(() => expect(e2e.violations).toEqual([]));

const H100 = "GDC3.H100-1x";

/** A node's whole life on E2E Networks (seed 000's upstream), through its fake. */
describeEachDb(
  "resold E2E Networks",
  (h) => {
    beforeAll(() => {
      e2e.reset();
    });

    it("launches, syncs to running with E2E's IP, stops (billed in full while powered off), starts, deletes", async () => {
      const synced = await h().post("/api/v1/providers/e2e/sync");
      expect(synced.status).toBe(200);
      expect(synced.body.data).toMatchObject({ offers: 4 });
      e2e.now = () => h().clock.now().getTime();
      const { key, sshKeyId } = await customer(h());
      const created = await h().post(
        "/api/v1/instances",
        { name: "run", planId: "GPU.H100.1x", templateSlug: "pytorch-cuda", region: "Delhi", sshKeyId },
        key,
      );
      expect(created.status).toBe(201);
      const id = created.body.data.id as string;
      expect(await tick(h(), "provisioning")).toMatchObject({ launched: 1, failed: 0 });
      const [node] = e2e.byName(`gp-${id}`);
      expect(node).toMatchObject({ sku: H100, location: "Delhi", image: "Ubuntu-22.04-Distro" });
      // The customer's key, then the server's web-terminal key (docs/security.md).
      expect(node.sshKeys).toEqual([expect.stringMatching(/^ssh-/), expect.stringMatching(/ gpuplane-web-terminal$/)]);

      // Creating: no public IP yet, so still provisioning.
      h().clock.advance(30_000);
      await tick(h(), "status-sync");
      expect(await view(h(), id, key)).toMatchObject({ status: "provisioning", ipAddress: null });
      h().clock.advance(30_000);
      await tick(h(), "status-sync");
      const running = await view(h(), id, key);
      expect(running.status).toBe("running");
      expect(running.sshCommand).toBe(`ssh -p 22 root@${running.ipAddress}`);

      h().clock.advance(600_000);
      const stop = await h().post(`/api/v1/instances/${id}/stop`, undefined, key);
      expect(stop.status).toBe(200);
      expect(stop.body.data.status).toBe("stopping");
      await tick(h(), "status-sync");
      const stopped = await view(h(), id, key);
      expect(e2e.nodes.get(node.id)!.status).toBe("Powered off");
      expect(stopped.status).toBe("stopped");
      // E2E keeps charging a powered-off node: the customer is told, and the run goes on.
      expect(stopped.billedWhileStopped).toMatch(/e2e keeps charging a stopped instance its full price/);

      h().clock.advance(1_200_000);
      expect((await h().post(`/api/v1/instances/${id}/start`, undefined, key)).status).toBe(200);
      await tick(h(), "status-sync");
      expect((await view(h(), id, key)).status).toBe("running");
      expect(e2e.calls("PUT", `/nodes/${node.id}/actions/`).map((c) => c.body.type)).toEqual(["power_off", "power_on"]);

      h().clock.advance(2_000_000);
      expect((await h().del(`/api/v1/instances/${id}`, key)).body.data.status).toBe("deleting");
      await tick(h(), "status-sync");
      expect((await view(h(), id, key)).status).toBe("deleted");
      expect(e2e.live()).toHaveLength(0);

      // 3,860 s from the create to the delete, powered off for 20 minutes of it: E2E charges two full hours, and so is
      // the customer (one run at the hourly increment), never less.
      await h().runWorker("meter");
      const [row] = await h().ctx.db.select().from(instances).where(eq(instances.id, id));
      expect(row.billingGranularitySeconds).toBe(3_600);
      expect(row.pricePerHourMicros).toBe(3_000_000n); // ₹249/h at ₹83 per dollar, zero markup
      expect(e2e.chargeInr(node.id)).toBe(2 * 249);
      expect(await chargedFor(h(), "instance_id", id)).toBe(divRound(row.pricePerHourMicros * 7_200n, 3_600n));
    });

    it("an error inside an HTTP 200 fails the launch with E2E's reason; a create that made none fails over", async () => {
      await connect(h(), { e2e });
      const { key, sshKeyId } = await customer(h());
      const order = (region: string) =>
        h().post(
          "/api/v1/instances",
          { name: "run", planId: "GPU.H100.1x", templateSlug: "pytorch-cuda", region, sshKeyId },
          key,
        );
      // Too little credit: E2E answers HTTP 200 with code 400. Not a launch, and not a 500 for anyone.
      e2e.credit = false;
      const refused = await order("Delhi");
      expect(refused.status).toBe(201);
      expect(await tick(h(), "provisioning")).toMatchObject({ failed: 1, launched: 0 });
      const failed = await view(h(), refused.body.data.id, key);
      expect(failed.status).toBe("failed");
      expect(failed.statusReason).toMatch(/e2e Delhi: .*Insufficient credit balance/);
      expect(e2e.live()).toHaveLength(0);
      e2e.credit = true;

      // Between the order and its launch Delhi runs out while its plan still reads available (the plan list is read
      // before the create): the create makes 0 of 1, which is capacity, and the order fails over to nothing else here
      // (a region names its offers), so it fails saying so; no node was made, none is tracked.
      const created = await order("Delhi");
      e2e.fault({
        method: "POST",
        path: "/nodes/",
        answer: {
          status: 200,
          body: {
            code: 200,
            data: { node_create_response: [], total_number_of_node_created: 0, total_number_of_node_requested: 1 },
            errors: {},
            message: "0 of 1 nodes created: plan GDC3.H100-1x is out of inventory in Delhi",
          },
        },
      });
      expect(await tick(h(), "provisioning")).toMatchObject({ failed: 1 });
      expect((await view(h(), created.body.data.id, key)).statusReason).toMatch(/created 0 of 1 nodes/);
      expect(e2e.byName(`gp-${created.body.data.id}`)).toHaveLength(0);
    });

    it("a create whose answer is lost is found by its name, not made twice", async () => {
      await connect(h(), { e2e });
      const { key, sshKeyId } = await customer(h());
      const created = await h().post(
        "/api/v1/instances",
        { name: "run", planId: "GPU.H100.1x", templateSlug: "pytorch-cuda", region: "Mumbai", sshKeyId },
        key,
      );
      const id = created.body.data.id as string;
      const before = e2e.calls("POST", "/nodes/").length;
      e2e.fault({ method: "POST", path: "/nodes/", dropAnswer: true });
      const stats = await tick(h(), "provisioning");
      expect(stats.adopted + stats.launched + (stats.deferred ?? 0)).toBeGreaterThan(0);
      if (!stats.adopted) await tick(h(), "provisioning");
      expect(e2e.byName(`gp-${id}`)).toHaveLength(1);
      expect(e2e.calls("POST", "/nodes/").length - before).toBe(1);
      expect((await view(h(), id, key)).status).toBe("provisioning");
    });

    it("a wrong API key (HTTP 200 with a 401 inside) is a 502 naming E2E's refusal, not an empty catalog", async () => {
      const right = e2e.apiKey;
      e2e.apiKey = "e2e-revoked";
      try {
        const synced = await h().post("/api/v1/providers/e2e/sync");
        expect(synced.status).toBe(502);
        expect(synced.text).toMatch(/Unauthorized/);
        const listed = await h().get("/api/v1/providers");
        expect(listed.body.data.find((p: any) => p.name === "e2e")).toMatchObject({ configured: true, ok: false });
        expect(listed.text).not.toContain(e2e.authToken);
      } finally {
        e2e.apiKey = right;
      }
    });
  },
  { manualClock: true, env: { GPUPLANE_SIMULATOR: "off", ...e2e.env() } },
);
