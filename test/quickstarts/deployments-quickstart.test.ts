import { expect, it } from "vitest";
import { describeOneDb } from "../helpers/harness.js";
import { fund, sshPublicKey, syncStatus } from "../instances/fixtures.js";

/**
 * The deployments API's quickstart (snake_case routes, per-second billing), request by request, with only the base URL
 * and the key changed (X-API-Key): balance, offers, SSH key, images, deploy, wait for running, delete.
 */
describeOneDb(
  "deployments quickstart",
  (h) => {
    it("runs as written with X-API-Key", async () => {
      const { key, tenantId } = await h().signup();

      // 1. Check your credit balance (minimum $20 required to deploy): the sign-up credit is $5, so top up.
      const before = await h().get("/api/v1/billing/balance", key);
      expect(before.status).toBe(200);
      await fund(h(), tenantId, "50");
      expect((await h().get("/api/v1/billing/balance", key)).body.data.balance_usd).toBeGreaterThanOrEqual(20);

      // 2. Browse available GPU offers and pricing
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
      expect(deployed.status).toBe(201);
      expect(deployed.body.data).toMatchObject({
        hostname: "my-training-run",
        cluster_type: "1H100.80S.30V",
        location: "FIN-01",
        status: "provisioning",
        ip: null,
      });
      const id = deployed.body.data.id as string;
      const offersAfter = await h().get("/api/v1/gpus/available?region=FIN-01&gpu_model=H100", key);
      const fin = offersAfter.body.data.find((o: any) => o.cluster_type === "1H100.80S.30V").regions[0];
      expect(fin.available_count).toBe(offer.regions.find((r: any) => r.region === "FIN-01").available_count - 1);

      // 6. Once status is "running", SSH in: poll while the status sync moves it on.
      let status = "provisioning";
      for (let i = 0; i < 10 && status !== "running"; i++) {
        await syncStatus(h(), 2_000);
        status = (await h().get(`/api/v1/deployments/${id}`, key)).body.data.status;
      }
      const running = await h().get(`/api/v1/deployments/${id}`, key);
      expect(running.body.data.status).toBe("running");
      expect(running.body.data.ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      expect(running.body.data.ssh_command).toBe(`ssh -p 22 root@${running.body.data.ip}`);

      // 7. When done, delete the deployment to stop billing
      const deleted = await h().del(`/api/v1/deployments/${id}`, key);
      expect(deleted.status).toBe(200);
      expect(deleted.body.data.status).toBe("deleted");
      expect(deleted.body.data.deleted_at).not.toBeNull();
      const listed = await h().get("/api/v1/deployments", key);
      expect(listed.body.data).toEqual([]);
    });
  },
  { manualClock: true },
);
