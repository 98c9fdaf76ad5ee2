import { eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { instances, volumes } from "../../src/db/schema/index.js";
import { divRound, microsToUsd } from "../../src/lib/money.js";
import { chargedFor } from "../billing/fixtures.js";
import { describeEachDb } from "../helpers/harness.js";
import { fund, sshPublicKey } from "../instances/fixtures.js";
import { VerdaFake } from "./fakes/verda.js";
import { connect, tick, view } from "./helpers.js";

const verda = await new VerdaFake().start();
afterAll(() => verda.stop());

/** Seed 001's quickstart on a Verda-backed FIN-01, Verda's own names and all, through its fake. */
describeEachDb(
  "resold Verda",
  (h) => {
    beforeAll(() => {
      verda.reset();
    });
    // Every request gpuplane sends and every answer the fake gives holds to Verda's contract (contracts/verda.ts).
    afterEach(() => expect(verda.violations.splice(0)).toEqual([]));
    it("runs seed 001's quickstart: ordered → provisioning → running → deleted, billed for Verda's running time", async () => {
      await connect(h(), { verda });
      const { key, tenantId } = await h().signup();
      await fund(h(), tenantId, "50");

      const offers = await h().get("/api/v1/gpus/available", key);
      const offer = offers.body.data.find((o: any) => o.cluster_type === "1H100.80S.30V");
      expect(offer.regions.find((r: any) => r.region === "FIN-01").available).toBe(true);

      const sshKey = await h().post("/api/v1/ssh-keys", { name: "my-laptop", public_key: sshPublicKey() }, key);
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
      expect(deployed.body.data).toMatchObject({ location: "FIN-01", status: "ordered", ip: null });
      const id = deployed.body.data.id as string;

      await tick(h(), "provisioning");
      const [upstream] = verda.byHostname(`gp-${id}`);
      expect(verda.byHostname(`gp-${id}`)).toHaveLength(1);
      expect(upstream).toMatchObject({ type: "1H100.80S.30V", location: "FIN-01" });
      // Verda launches the image map's OS image for it (its image_type), not gpuplane's image id.
      expect(verda.calls("POST", "/instances")[0].body).toMatchObject({ image: "ubuntu-22.04-cuda-12.4-docker" });
      expect((await h().get(`/api/v1/deployments/${id}`, key)).body.data.status).toBe("provisioning");

      let status = "provisioning";
      for (let i = 0; i < 10 && status !== "running"; i++) {
        h().clock.advance(15_000);
        await tick(h(), "status-sync");
        status = (await h().get(`/api/v1/deployments/${id}`, key)).body.data.status;
      }
      const running = await h().get(`/api/v1/deployments/${id}`, key);
      expect(running.body.data.status).toBe("running");
      expect(running.body.data.ssh_command).toBe(`ssh -p 22 root@${running.body.data.ip}`);

      h().clock.advance(600_000);
      const deleted = await h().del(`/api/v1/deployments/${id}`, key);
      expect(deleted.status).toBe(200);
      expect(verda.calls("PUT", "/instances").at(-1)!.body).toMatchObject({ id: [upstream.id], action: "delete" });
      await tick(h(), "status-sync");
      expect((await h().get(`/api/v1/deployments/${id}`, key)).body.data.status).toBe("deleted");
      // Running at 90 s (Verda's provisioning time), seen on the pass at 90 s; deleted 600 s later. Verda's rule
      // bills from its create (startsAt: launch), so the customer pays the 90 s of provisioning too: 690 s.
      expect(verda.runningSeconds(upstream.id)).toBe(600);
      await h().runWorker("meter");
      const [row] = await h().ctx.db.select().from(instances).where(eq(instances.id, id));
      expect(await chargedFor(h(), "instance_id", id)).toBe(divRound(row.pricePerHourMicros * 690n, 3_600n));

      // The operator's margin on it: what the customer paid less Verda's $2.19/h for the same 690 s.
      const margins = await h().get("/api/v1/dashboard/margins?days=1");
      expect(margins.status).toBe(200);
      const revenue = divRound(row.pricePerHourMicros * 690n, 3_600n);
      const cost = divRound(2_190_000n * 690n, 3_600n);
      expect(margins.body.data.providers).toEqual([
        {
          provider: "verda",
          instances: 1,
          seconds: 690,
          revenue_usd: microsToUsd(revenue),
          upstream_cost_usd: microsToUsd(cost),
          margin_usd: microsToUsd(revenue - cost),
        },
      ]);
    });

    it("stop and delete wait for Verda's confirmation: stopping and deleting are billed until Verda has done it", async () => {
      await connect(h(), { verda });
      verda.actionMs = 40_000;
      const { key, tenantId } = await h().signup();
      await fund(h(), tenantId, "50");
      const sshKey = await h().post("/api/v1/ssh-keys", { name: "laptop", public_key: sshPublicKey() }, key);
      const created = await h().post(
        "/api/v1/deployments/clusters",
        {
          cluster_type: "1H100.80S.30V",
          image: "ubuntu-22.04-cuda-12.4-cluster",
          hostname: "stop-and-delete",
          ssh_key_ids: [sshKey.body.data.id],
          location: "FIN-01",
        },
        key,
      );
      expect(created.status).toBe(201);
      const id = created.body.data.id as string;
      await tick(h(), "provisioning");
      const [upstream] = verda.byHostname(`gp-${id}`);
      h().clock.advance(90_000);
      await tick(h(), "status-sync");
      expect((await view(h(), id, key)).status).toBe("running");

      h().clock.advance(300_000);
      const stop = await h().post(`/api/v1/instances/${id}/stop`, undefined, key);
      expect(stop.status).toBe(200);
      expect(stop.body.data.status).toBe("stopping");
      expect(verda.calls("PUT", "/instances").at(-1)!.body).toMatchObject({ id: [upstream.id], action: "shutdown" });
      // Verda takes 40 s to shut it down: the passes at +20 s and +35 s still see it running.
      for (const step of [20_000, 15_000]) {
        h().clock.advance(step);
        await tick(h(), "status-sync");
        expect((await view(h(), id, key)).status).toBe("stopping");
      }
      h().clock.advance(5_000);
      await tick(h(), "status-sync");
      expect((await view(h(), id, key)).status).toBe("stopped");
      expect(verda.runningSeconds(upstream.id)).toBe(340);
      // Verda keeps charging a shut-down instance its full price (billing rule `whileStopped: full`): the run stays
      // open through the stop, and the instance says why.
      expect((await view(h(), id, key)).billedWhileStopped).toMatch(/full price/);

      expect((await h().post(`/api/v1/instances/${id}/start`, undefined, key)).status).toBe(200);
      await tick(h(), "status-sync");
      expect((await view(h(), id, key)).status).toBe("running");
      h().clock.advance(100_000);
      const del = await h().del(`/api/v1/instances/${id}`, key);
      expect(del.body.data.status).toBe("deleting");
      for (const step of [20_000, 15_000]) {
        h().clock.advance(step);
        await tick(h(), "status-sync");
        expect((await view(h(), id, key)).status).toBe("deleting");
      }
      h().clock.advance(5_000);
      await tick(h(), "status-sync");
      expect((await view(h(), id, key)).status).toBe("deleted");
      expect(verda.runningSeconds(upstream.id)).toBe(140);

      // One run from Verda's create to the pass that saw it gone: 90 + 300 + 40 (shutting down) + 100 + 40 (deleting).
      await h().runWorker("meter");
      const [row] = await h().ctx.db.select().from(instances).where(eq(instances.id, id));
      const price = row.pricePerHourMicros;
      expect(await chargedFor(h(), "instance_id", id)).toBe(divRound(price * 570n, 3_600n));
    });

    it("logs in again when Verda revokes or expires its token, and keeps the secret out of every answer", async () => {
      await connect(h(), { verda });
      verda.tokens.clear();
      const synced = await h().post("/api/v1/providers/verda/sync");
      expect(synced.status).toBe(200);
      const logins = verda.calls("POST", "/oauth2/token");
      expect(logins.length).toBeGreaterThanOrEqual(2);
      const providers = await h().get("/api/v1/providers");
      expect(providers.status).toBe(200);
      expect(providers.body.data.find((p: any) => p.name === "verda")).toMatchObject({ configured: true, ok: true });
      expect(providers.text).not.toContain(verda.clientSecret);
      const health = await h().get("/healthz", null);
      expect(health.text).not.toContain(verda.clientSecret);
    });

    it("a customer volume becomes a Verda volume in the location, attached at launch, kept after the instance, deleted with the volume", async () => {
      await connect(h(), { verda });
      verda.actionMs = 0; // deletes at once (an earlier test made them slow)
      const { key, tenantId } = await h().signup();
      await fund(h(), tenantId, "50");
      const sshKey = await h().post("/api/v1/ssh-keys", { name: "laptop", public_key: sshPublicKey() }, key);
      const volume = await h().post("/api/v1/volumes", { name: "data", size_gb: 500, location: "FIN-01" }, key);
      expect(volume.status).toBe(201);
      const volumeId = volume.body.data.id as string;
      const deployWith = (hostname: string) =>
        h().post(
          "/api/v1/deployments/clusters",
          {
            cluster_type: "1H100.80S.30V",
            image: "ubuntu-22.04-cuda-12.4-cluster",
            hostname,
            ssh_key_ids: [sshKey.body.data.id],
            location: "FIN-01",
            existing_volumes: [volumeId],
          },
          key,
        );
      const first = await deployWith("with-data");
      expect(first.status).toBe(201);
      const firstId = first.body.data.id as string;
      await tick(h(), "provisioning");

      // One Verda volume, in FIN-01, of the volume's size and type, its id on the volume row, attached at creation.
      const [made] = [...verda.volumes.values()];
      expect(made).toMatchObject({ size: 500, type: "NVMe", location: "FIN-01", status: "attached" });
      const [row] = await h().ctx.db.select().from(volumes).where(eq(volumes.id, volumeId));
      expect(row).toMatchObject({ upstreamProvider: "verda", upstreamRef: made.id });
      const launched = verda.calls("POST", "/instances").at(-1)!.body;
      expect(launched).toMatchObject({ existing_volumes: [made.id], location_code: "FIN-01" });
      expect(made.instance_id).toBe(verda.byHostname(`gp-${firstId}`)[0].id);

      // On a launched Verda instance, attach and detach are refused (Verda takes volumes at creation).
      h().clock.advance(100_000);
      await tick(h(), "status-sync");
      const detach = await h().del(`/api/v1/instances/${firstId}/volumes/${volumeId}`, key);
      expect(detach.status).toBe(409);
      expect(detach.body.error).toMatch(/only when it is created/);

      // The instance is deleted: Verda keeps the volume (detached); gpuplane's volume is available again.
      expect((await h().del(`/api/v1/deployments/${firstId}`, key)).status).toBe(200);
      await tick(h(), "status-sync");
      expect((await h().get(`/api/v1/deployments/${firstId}`, key)).body.data.status).toBe("deleted");
      expect(verda.volumes.get(made.id)).toMatchObject({ status: "detached", instance_id: null });
      expect((await h().get(`/api/v1/volumes/${volumeId}`, key)).body.data.status).toBe("available");

      // The next instance gets the same Verda volume: no second one is created.
      const second = await deployWith("with-data-again");
      expect(second.status).toBe(201);
      await tick(h(), "provisioning");
      expect(verda.calls("POST", "/volumes")).toHaveLength(1);
      expect(verda.calls("POST", "/instances").at(-1)!.body.existing_volumes).toEqual([made.id]);
      expect((await h().del(`/api/v1/deployments/${second.body.data.id}`, key)).status).toBe(200);
      await tick(h(), "status-sync");

      // Deleting gpuplane's volume deletes Verda's; a Verda failure on that delete is a 502 and changes nothing.
      verda.fault({
        method: "PUT",
        path: "/volumes",
        answer: { status: 400, body: { code: "forbidden_action", message: "locked" } },
      });
      const failing = await h().del(`/api/v1/volumes/${volumeId}`, key);
      expect(failing.status).toBe(502);
      expect((await h().get(`/api/v1/volumes/${volumeId}`, key)).body.data.status).toBe("available");
      expect(verda.volumes.has(made.id)).toBe(true);
      const deleted = await h().del(`/api/v1/volumes/${volumeId}`, key);
      expect(deleted.status).toBe(200);
      expect(verda.volumes.has(made.id)).toBe(false);
      expect(verda.calls("PUT", "/volumes").at(-1)!.body).toEqual({
        id: [made.id],
        action: "delete",
        is_permanent: true,
      });
    });

    it("a volume create whose answer was lost is adopted by its name on the retry, not created twice", async () => {
      await connect(h(), { verda });
      const { key, tenantId } = await h().signup();
      await fund(h(), tenantId, "50");
      const sshKey = await h().post("/api/v1/ssh-keys", { name: "laptop", public_key: sshPublicKey() }, key);
      const volume = await h().post("/api/v1/volumes", { name: "lost", size_gb: 100, location: "FIN-01" }, key);
      const volumeId = volume.body.data.id as string;
      const deployed = await h().post(
        "/api/v1/deployments/clusters",
        {
          cluster_type: "1H100.80S.30V",
          image: "ubuntu-22.04-cuda-12.4-cluster",
          hostname: "lost-answer",
          ssh_key_ids: [sshKey.body.data.id],
          location: "FIN-01",
          existing_volumes: [volumeId],
        },
        key,
      );
      expect(deployed.status).toBe(201);
      const id = deployed.body.data.id as string;
      const named = () => [...verda.volumes.values()].filter((v) => v.name === `gp-${volumeId}`);

      // A volume made outside gpuplane, with no name, in the account's list: it must not make the list unreadable.
      verda.volumes.set("made-by-hand", {
        id: "made-by-hand",
        status: "detached",
        name: null as unknown as string,
        size: 50,
        type: "NVMe",
        is_os_volume: false,
        created_at: new Date(0).toISOString(),
        target: null,
        location: "FIN-01",
        instance_id: null,
        ssh_key_ids: [],
      });
      // Verda creates the volume but the connection drops before its id reaches gpuplane: the order waits.
      verda.fault({ method: "POST", path: "/volumes", dropAnswer: true });
      expect(await tick(h(), "provisioning")).toMatchObject({ deferred: 1, launched: 0 });
      expect(named()).toHaveLength(1);
      const [before] = await h().ctx.db.select().from(volumes).where(eq(volumes.id, volumeId));
      expect(before.upstreamRef).toBeNull();

      // The retry finds it by its name and launches with it; no second volume is made.
      h().clock.advance(5_000);
      expect(await tick(h(), "provisioning")).toMatchObject({ launched: 1 });
      const [made] = named();
      expect(named()).toHaveLength(1);
      expect(verda.calls("POST", "/volumes").filter((c) => c.body.name === `gp-${volumeId}`)).toHaveLength(1);
      expect(verda.byHostname(`gp-${id}`)).toHaveLength(1);
      expect(verda.calls("POST", "/instances").at(-1)!.body.existing_volumes).toEqual([made.id]);
      const [after] = await h().ctx.db.select().from(volumes).where(eq(volumes.id, volumeId));
      expect(after).toMatchObject({ upstreamProvider: "verda", upstreamRef: made.id });
      // The nameless hand-made volume is off Verda's contract (the SDKs type `name` as a string) on purpose.
      verda.violations = verda.violations.filter((v) => !/GET \/volumes → 200: answer \d+\.name/.test(v));
    });
  },
  {
    manualClock: true,
    env: {
      GPUPLANE_SIMULATOR: "off",
      ...verda.env(),
    },
  },
);
