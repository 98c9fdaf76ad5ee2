import { eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { instances } from "../../src/db/schema/index.js";
import { divRound } from "../../src/lib/money.js";
import { chargedFor } from "../billing/fixtures.js";
import { describeEachDb } from "../helpers/harness.js";
import { customer } from "../instances/fixtures.js";
import { LambdaFake } from "./fakes/lambda.js";
import { connect, tick, view } from "./helpers.js";

const lambda = await new LambdaFake().start();
afterAll(() => lambda.stop());
// Every request gpuplane sent and every answer the fake gave held to the cloud's published contract.
afterEach(() => expect(lambda.violations).toEqual([]));

/** Seed 000's quickstart and an instance's whole life on Lambda Cloud, through its fake. */
describeEachDb(
  "resold Lambda Cloud",
  (h) => {
    beforeAll(() => {
      lambda.reset();
    });
    it("runs seed 000's quickstart on a Lambda-backed region", async () => {
      await connect(h(), { lambda });
      const { key, sshKeyId } = await customer(h());
      const bearer = { authorization: `Bearer ${key}` };
      const call = (method: string, path: string, body?: unknown) =>
        h().request(method, path, { key: null, headers: bearer, body });

      expect((await call("GET", "/api/v1/instances")).body).toMatchObject({ code: "OK", data: [] });
      const created = await call("POST", "/api/v1/instances", {
        name: "training-run-01",
        planId: "GPU.H100.1x",
        templateSlug: "pytorch-cuda",
        sshKeyId,
      });
      expect(created.status).toBe(201);
      // Committed at once, before Lambda is called: the provisioning worker launches it.
      expect(created.body.data).toMatchObject({ name: "training-run-01", planId: "GPU.H100.1x", status: "ordered" });
      expect(lambda.calls("POST", "/instance-operations/launch")).toHaveLength(0);
      expect((await call("GET", "/api/v1/billing/balance")).body.data.balance_usd).toBeGreaterThan(20);

      // Stop right away: nothing was launched yet, so the stop cancels the order (Lambda itself has no stop).
      const stopped = await call("POST", `/api/v1/instances/${created.body.data.id}/stop`);
      expect(stopped.status).toBe(200);
      expect(stopped.body.data.status).toBe("stopped");
      await tick(h(), "provisioning");
      expect(lambda.byName(`gp-${created.body.data.id}`)).toHaveLength(0);
    });

    it("launches, reports running with Lambda's IP once it has one, refuses a stop with 409, and bills Lambda's whole minutes", async () => {
      await connect(h(), { lambda });
      const { key, sshKeyId } = await customer(h());
      const created = await h().post(
        "/api/v1/instances",
        { name: "run", planId: "GPU.H100.1x", templateSlug: "pytorch-cuda", sshKeyId },
        key,
      );
      const id = created.body.data.id as string;
      const launched = await tick(h(), "provisioning");
      expect(launched).toMatchObject({ launched: 1, failed: 0 });
      const [upstream] = lambda.byName(`gp-${id}`);
      expect(upstream).toBeDefined();
      expect(lambda.calls("POST", "/instance-operations/launch")[0].body).toMatchObject({
        instance_type_name: "gpu_1x_h100_sxm5",
        ssh_key_names: [expect.stringMatching(/^gp-/)],
        name: `gp-${id}`,
      });
      expect(await view(h(), id, key)).toMatchObject({ status: "provisioning", ipAddress: null });

      // Booting: no IP yet, still provisioning and not billed.
      h().clock.advance(30_000);
      await tick(h(), "status-sync");
      expect(await view(h(), id, key)).toMatchObject({ status: "provisioning", ipAddress: null });

      // Active exactly when Lambda says so.
      h().clock.advance(30_000);
      await tick(h(), "status-sync");
      const running = await view(h(), id, key);
      expect(running.status).toBe("running");
      expect(running.sshCommand).toBe(`ssh -p 22 ubuntu@${running.ipAddress}`);

      const stop = await h().post(`/api/v1/instances/${id}/stop`, undefined, key);
      expect(stop.status).toBe(409);
      expect(stop.body.error).toMatch(/lambda has no stop/i);

      h().clock.advance(3_723_000);
      const deleted = await h().del(`/api/v1/instances/${id}`, key);
      expect(deleted.status).toBe(200);
      expect(deleted.body.data.status).toBe("deleting");
      h().clock.advance(6_000);
      await tick(h(), "status-sync");
      expect((await view(h(), id, key)).status).toBe("deleted");

      // Billing follows Lambda's rule: its active time (3,723 s) rounded up to Lambda's whole minutes, 3,780 s.
      await h().runWorker("meter");
      expect(lambda.activeSeconds(upstream.id)).toBe(3_723);
      // us-east-1 already had the operator's own H100 price (the default catalog's $2.69), above Lambda's $2.49: kept.
      const [row] = await h().ctx.db.select().from(instances).where(eq(instances.id, id));
      const price = row.pricePerHourMicros;
      expect(price).toBe(2_690_000n);
      expect(row.billingGranularitySeconds).toBe(60);
      expect(await chargedFor(h(), "instance_id", id)).toBe(divRound(price * 3_780n, 3_600n));
    });
  },
  {
    manualClock: true,
    env: { GPUPLANE_SIMULATOR: "off", ...lambda.env() },
  },
);
