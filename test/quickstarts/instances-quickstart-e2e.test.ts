import { eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { instances } from "../../src/db/schema/index.js";
import { usdPerHourToMicros } from "../../src/providers/upstream/gpus.js";
import { chargedFor } from "../billing/fixtures.js";
import { describeOneDb, type Harness } from "../helpers/harness.js";
import { customer } from "../instances/fixtures.js";
import { E2E_INR_PER_USD, E2eFake } from "../providers/fakes/e2e.js";
import { connect, tick, view } from "../providers/helpers.js";

const e2e = await new E2eFake().start();
afterAll(() => e2e.stop());

/** The status sync's interval (src/workers/status-sync.ts): how late gpuplane may see what E2E did. */
const SYNC_MS = 5_000;

async function syncUntil(h: Harness, id: string, key: string, status: string) {
  for (let i = 0; i < 100; i++) {
    if ((await view(h, id, key)).status === status) return;
    h.clock.advance(SYNC_MS);
    await tick(h, "status-sync");
  }
  throw new Error(`${id} never became ${status}`);
}

/**
 * The instances API's quickstart (camelCase routes, plan ids) on its own upstream, E2E Networks ("Background jobs
 * continuously sync instance status from E2E Networks"), through E2E's contract-held fake: list, create (planId,
 * templateSlug, sshKeyId), balance, stop; then what the customer pays for a node that ran, against what E2E charges for
 * it.
 */
describeOneDb(
  "instances quickstart on E2E Networks",
  (h) => {
    beforeAll(() => e2e.reset());
    afterEach(() => expect(e2e.violations).toEqual([]));

    it("runs as written with Authorization: Bearer", async () => {
      await connect(h(), { e2e });
      const { key, sshKeyId } = await customer(h());
      const bearer = { authorization: `Bearer ${key}` };
      const call = (method: string, path: string, body?: unknown) =>
        h().request(method, path, { key: null, headers: bearer, body });

      const listed = await call("GET", "/api/v1/instances");
      expect(listed.body).toMatchObject({ code: "OK", data: [], meta: { total: 0, has_more: false } });
      const created = await call("POST", "/api/v1/instances", {
        name: "training-run-01",
        planId: "GPU.H100.1x",
        templateSlug: "pytorch-cuda",
        sshKeyId,
        region: "Delhi",
      });
      expect(created.status).toBe(201);
      expect(created.body.data).toMatchObject({ name: "training-run-01", gpuType: "H100", gpuCount: 1 });
      expect((await call("GET", "/api/v1/billing/balance")).body.data.balance_usd).toBeGreaterThan(20);
      // Pasted right away it has not been launched: the stop cancels the order, and E2E never sees it.
      const stopped = await call("POST", `/api/v1/instances/${created.body.data.id}/stop`);
      expect(stopped.status).toBe(200);
      expect(stopped.body.data.status).toBe("stopped");
      await tick(h(), "provisioning");
      expect(e2e.byName(`gp-${created.body.data.id}`)).toHaveLength(0);
    });

    it("bills the customer at least what E2E charges for the same node at zero markup, and within one status-sync interval of it", async () => {
      await connect(h(), { e2e });
      const { key, sshKeyId } = await customer(h());
      const created = await h().post(
        "/api/v1/instances",
        { name: "training-run-02", planId: "GPU.H100.1x", templateSlug: "pytorch-cuda", region: "Delhi", sshKeyId },
        key,
      );
      const id = created.body.data.id as string;
      expect(await tick(h(), "provisioning")).toMatchObject({ launched: 1 });
      const [node] = e2e.byName(`gp-${id}`);
      await syncUntil(h(), id, key, "running");
      // A stop in the middle: E2E keeps charging a powered-off node.
      h().clock.advance(1_800_000);
      expect((await h().post(`/api/v1/instances/${id}/stop`, undefined, key)).status).toBe(200);
      await syncUntil(h(), id, key, "stopped");
      h().clock.advance(1_923_000);
      expect((await h().del(`/api/v1/instances/${id}`, key)).status).toBe(200);
      await syncUntil(h(), id, key, "deleted");
      await h().runWorker("meter");

      // E2E's rule (docs.e2enetworks.com billing pages): its hourly price for every started hour from the create to
      // the delete, powered off or not; priced in INR, converted at the operator's rate.
      const rate = usdPerHourToMicros(E2E_INR_PER_USD);
      const perHour =
        (BigInt(e2e.plans.find((p) => p.sku === node.sku)!.priceInr) * 1_000_000n ** 2n + rate - 1n) / rate;
      const e2eCharge = (BigInt(e2e.chargeInr(node.id)) * 1_000_000n ** 2n + rate - 1n) / rate;
      expect(e2e.chargeInr(node.id)).toBeGreaterThan(0);
      const [row] = await h().ctx.db.select().from(instances).where(eq(instances.id, id));
      expect(row.pricePerHourMicros).toBe(perHour); // zero markup: sold at E2E's price
      const charged = await chargedFor(h(), "instance_id", id);
      expect(charged).toBeGreaterThanOrEqual(e2eCharge);
      expect(charged - e2eCharge).toBeLessThanOrEqual((perHour * BigInt(SYNC_MS / 1000) + 3_599n) / 3_600n);
    });
  },
  { manualClock: true, env: { GPUPLANE_SIMULATOR: "off", ...e2e.env() } },
);
