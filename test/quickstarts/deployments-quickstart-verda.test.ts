import { eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { instances } from "../../src/db/schema/index.js";
import { chargedFor } from "../billing/fixtures.js";
import { describeOneDb } from "../helpers/harness.js";
import { fund, sshPublicKey } from "../instances/fixtures.js";
import { VerdaFake } from "../providers/fakes/verda.js";
import { connect, tick } from "../providers/helpers.js";

const verda = await new VerdaFake().start();
afterAll(() => verda.stop());

/** The status sync's interval (src/workers/status-sync.ts): how late gpuplane may see what Verda did. */
const SYNC_MS = 5_000;

/**
 * The deployments API's quickstart (snake_case routes, per-second billing), request by request (X-API-Key), on FIN-01
 * resold from Verda's contract-held fake: balance, offers, SSH key, images, deploy, wait for running, delete; and what
 * the customer paid against what Verda charges.
 */
describeOneDb(
  "deployments quickstart on Verda",
  (h) => {
    beforeAll(() => verda.reset());
    afterEach(() => expect(verda.violations).toEqual([]));

    /** Steps 1–7 of the quickstart in FIN-01; answers the deployment's id once it is deleted. */
    async function quickstart(): Promise<{ id: string; key: string; upstreamId: string }> {
      await connect(h(), { verda });
      const { key, tenantId } = await h().signup();

      // 1. Check your credit balance (minimum $20 required to deploy): the sign-up credit is $5, so top up.
      expect((await h().get("/api/v1/billing/balance", key)).status).toBe(200);
      await fund(h(), tenantId, "50");
      expect((await h().get("/api/v1/billing/balance", key)).body.data.balance_usd).toBeGreaterThanOrEqual(20);

      // 2. Browse available GPU offers and pricing: Verda's stock in FIN-01.
      const offers = await h().get("/api/v1/gpus/available", key);
      expect(offers.status).toBe(200);
      const offer = offers.body.data.find((o: any) => o.cluster_type === "1H100.80S.30V");
      expect(offer.regions.find((r: any) => r.region === "FIN-01").available).toBe(true);

      // 3. Upload your SSH public key
      const sshKey = await h().post(
        "/api/v1/ssh-keys",
        { name: "my-laptop", public_key: sshPublicKey("ed25519", 0, "user@host") },
        key,
      );
      expect(sshKey.status).toBe(201);

      // 4. Pick a compatible OS image
      const images = await h().get("/api/v1/images", key);
      const image = images.body.data.find((i: any) => i.id === "ubuntu-22.04-cuda-12.4-cluster");
      expect(image.compatible_gpus).toContain("H100");

      // 5. Deploy a GPU cluster
      const deployed = await h().post(
        "/api/v1/deployments/clusters",
        {
          cluster_type: "1H100.80S.30V",
          image: "ubuntu-22.04-cuda-12.4-cluster",
          hostname: "my-training-run",
          ssh_key_ids: [sshKey.body.data.id],
          location: "FIN-01",
        },
        key,
        { "Idempotency-Key": "deploy-training-run-001" },
      );
      expect(deployed.status, deployed.text).toBe(201);
      expect(deployed.body.data).toMatchObject({ hostname: "my-training-run", location: "FIN-01", ip: null });
      const id = deployed.body.data.id as string;
      await tick(h(), "provisioning");
      const launched = verda.byHostname(`gp-${id}`);
      expect(launched).toHaveLength(1);
      // Verda's hostname: gpuplane's tag in letters, digits and hyphens; priced as the offer was.
      expect(launched[0]).toMatchObject({ hostname: `gp-${id.replace("_", "-")}`, pricing: "FIXED_PRICE" });

      // 6. Once status is "running", SSH in: poll while the status sync moves it on (Verda provisions in 90 s).
      let status = "provisioning";
      for (let i = 0; i < 30 && status !== "running"; i++) {
        h().clock.advance(SYNC_MS);
        await tick(h(), "status-sync");
        status = (await h().get(`/api/v1/deployments/${id}`, key)).body.data.status;
      }
      const running = (await h().get(`/api/v1/deployments/${id}`, key)).body.data;
      expect(running.status).toBe("running");
      expect(running.ssh_command).toBe(`ssh -p 22 root@${running.ip}`);

      // It runs a while (an hour, two minutes and three seconds).
      h().clock.advance(3_723_000);

      // 7. When done, delete the deployment to stop billing
      const deleted = await h().del(`/api/v1/deployments/${id}`, key);
      expect(deleted.status).toBe(200);
      for (let i = 0; i < 5 && (await h().get(`/api/v1/deployments/${id}`, key)).body.data?.status !== "deleted"; i++) {
        h().clock.advance(SYNC_MS);
        await tick(h(), "status-sync");
      }
      expect((await h().get("/api/v1/deployments", key)).body.data).toEqual([]);
      expect(verda.byHostname(`gp-${id}`)).toHaveLength(0);
      // Its OS volume went with it: nothing left that Verda charges for.
      expect([...verda.volumes.values()].filter((v) => v.instance_id === launched[0].id || v.is_os_volume)).toEqual([]);
      return { id, key, upstreamId: launched[0].id };
    }

    it("runs as written with X-API-Key", async () => {
      await quickstart();
    });

    it("bills the customer at least what Verda charges for the same instance at zero markup, and within one status-sync interval of it", async () => {
      const { id, upstreamId } = await quickstart();
      await h().runWorker("meter");
      // Verda's rule (verda-cli cmd/vm/action.go, docs shutdown-hibernate-and-delete): its fixed hourly price, by the
      // second, from the create until the instance is deleted.
      const verdaCharge = verda.charge(upstreamId);
      const perHour = 2_190_000n;
      const [row] = await h().ctx.db.select().from(instances).where(eq(instances.id, id));
      expect(row.pricePerHourMicros).toBe(perHour); // zero markup: sold at Verda's fixed price
      const charged = await chargedFor(h(), "instance_id", id);
      expect(charged).toBeGreaterThanOrEqual(verdaCharge);
      expect(charged - verdaCharge).toBeLessThanOrEqual((perHour * BigInt(SYNC_MS / 1000) + 3_599n) / 3_600n);
    });
  },
  { manualClock: true, env: { GPUPLANE_SIMULATOR: "off", ...verda.env() } },
);
