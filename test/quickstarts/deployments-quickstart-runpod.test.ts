import { eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { instances } from "../../src/db/schema/index.js";
import { usdPerHourToMicros } from "../../src/providers/upstream/gpus.js";
import { chargedFor } from "../billing/fixtures.js";
import { describeOneDb } from "../helpers/harness.js";
import { fund, sshPublicKey } from "../instances/fixtures.js";
import { RunPodFake } from "../providers/fakes/runpod.js";
import { connect, tick } from "../providers/helpers.js";

const runpod = await new RunPodFake().start();
afterAll(() => runpod.stop());

/** The status sync's interval (src/workers/status-sync.ts): how late gpuplane may see what RunPod did. */
const SYNC_MS = 5_000;

/**
 * The deployments API's quickstart (snake_case routes, per-second billing), request by request (X-API-Key), on a region
 * resold from RunPod's fake: balance, offers, SSH key, images, deploy, wait for running, delete; and what the customer
 * paid for it against what RunPod charges.
 */
describeOneDb(
  "deployments quickstart on RunPod",
  (h) => {
    beforeAll(() => runpod.reset());
    afterEach(() => expect(runpod.violations).toEqual([]));

    /** Steps 1–7 of the quickstart in EU-RO-1; answers the deployment's id once it is deleted. */
    async function quickstart(): Promise<{ id: string; key: string }> {
      await connect(h(), { runpod });
      const { key, tenantId } = await h().signup();

      // 1. Check your credit balance (minimum $20 required to deploy): the sign-up credit is $5, so top up.
      expect((await h().get("/api/v1/billing/balance", key)).status).toBe(200);
      await fund(h(), tenantId, "50");
      expect((await h().get("/api/v1/billing/balance", key)).body.data.balance_usd).toBeGreaterThanOrEqual(20);

      // 2. Browse available GPU offers and pricing: RunPod's Secure Cloud stock in EU-RO-1.
      const offers = await h().get("/api/v1/gpus/available", key);
      expect(offers.status).toBe(200);
      const offer = offers.body.data.find((o: any) => o.cluster_type === "1H100.80S.30V");
      expect(offer.regions.find((r: any) => r.region === "EU-RO-1").available).toBe(true);

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
          location: "EU-RO-1",
        },
        key,
        { "Idempotency-Key": "deploy-training-run-001" },
      );
      expect(deployed.status, deployed.text).toBe(201);
      expect(deployed.body.data).toMatchObject({ hostname: "my-training-run", location: "EU-RO-1", ip: null });
      const id = deployed.body.data.id as string;
      await tick(h(), "provisioning");
      expect(runpod.byName(`gp-${id}`)).toHaveLength(1);

      // 6. Once status is "running", SSH in: poll while the status sync moves it on (the image pull takes 30 s).
      let status = "provisioning";
      for (let i = 0; i < 20 && status !== "running"; i++) {
        h().clock.advance(SYNC_MS);
        await tick(h(), "status-sync");
        status = (await h().get(`/api/v1/deployments/${id}`, key)).body.data.status;
      }
      const running = (await h().get(`/api/v1/deployments/${id}`, key)).body.data;
      expect(running.status).toBe("running");
      expect(running.ssh_command).toMatch(new RegExp(`^ssh -p 4\\d{4} root@${running.ip.replace(/\./g, "\\.")}$`));

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
      expect(runpod.live().filter((p) => p.name === `gp-${id}`)).toHaveLength(0);
      return { id, key };
    }

    it("runs as written with X-API-Key", async () => {
      await quickstart();
    });

    // flips when billing follows the upstream rule (issue 25 item 6): RunPod bills by the second from the create (the
    // image pull included), while the customer is billed from the pass that sees the pod reachable.
    it("bills the customer at least what RunPod charges for the same pod at zero markup, and within one status-sync interval of it", async () => {
      const { id } = await quickstart();
      await h().runWorker("meter");
      const [pod] = [...runpod.pods.values()].filter((p) => p.name === `gp-${id}`);
      // RunPod's rule (runpod/docs pods/pricing.mdx): its per-GPU hourly price and the pod's 50 GB container disk at
      // $0.10/GB/month ($0.006945/h), by the second, from the create.
      const perHour = usdPerHourToMicros(runpod.gpuTypes.find((t) => t.id === pod.gpuTypeId)!.secure) + 6_945n;
      const runpodCharge = runpod.charge(pod.id);
      expect(pod.diskGb).toBe(50);
      const [row] = await h().ctx.db.select().from(instances).where(eq(instances.id, id));
      expect(row.pricePerHourMicros).toBe(perHour); // zero markup: sold at RunPod's price
      const charged = await chargedFor(h(), "instance_id", id);
      expect(charged).toBeGreaterThanOrEqual(runpodCharge);
      expect(charged - runpodCharge).toBeLessThanOrEqual((perHour * BigInt(SYNC_MS / 1000) + 3_599n) / 3_600n);
    });
  },
  { manualClock: true, env: { GPUPLANE_SIMULATOR: "off", ...runpod.env() } },
);
