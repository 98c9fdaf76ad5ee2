import { eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { events } from "../../src/db/schema/index.js";
import { describeEachDb } from "../helpers/harness.js";
import { fund, sshPublicKey } from "../instances/fixtures.js";
import { VerdaFake } from "./fakes/verda.js";
import { connect, tick, view } from "./helpers.js";

const verda = await new VerdaFake().start();
afterAll(() => verda.stop());

/**
 * Verda keeps charging for every volume a delete does not name (verda-cli cmd/vm/action.go): gpuplane's delete names
 * the OS volume, and the status sync reconciles volumes as it does instances, recording and alerting each one it no
 * longer sells.
 */
describeEachDb(
  "Verda volumes gpuplane no longer sells",
  (h) => {
    beforeAll(() => verda.reset());
    afterEach(() => expect(verda.violations).toEqual([]));

    async function launch(key: string, sshKeyId: string, hostname: string) {
      const created = await h().post(
        "/api/v1/deployments/clusters",
        {
          cluster_type: "1H100.80S.30V",
          image: "ubuntu-22.04-cuda-12.4-cluster",
          hostname,
          ssh_key_ids: [sshKeyId],
          location: "FIN-01",
        },
        key,
      );
      expect(created.status, created.text).toBe(201);
      const id = created.body.data.id as string;
      await tick(h(), "provisioning");
      h().clock.advance(verda.provisionMs);
      await tick(h(), "status-sync");
      expect((await view(h(), id, key)).status).toBe("running");
      return { id, upstream: verda.byHostname(`gp-${id}`)[0] };
    }

    it("a delete leaves no volume behind; an OS volume left by a delete outside gpuplane and a detached disk are orphans the operator is told of", async () => {
      await connect(h(), { verda });
      const { key, tenantId } = await h().signup();
      await fund(h(), tenantId, "100");
      const sshKey = (await h().post("/api/v1/ssh-keys", { name: "k", public_key: sshPublicKey() }, key)).body.data;

      // Deleted through gpuplane: its OS volume goes with it, nothing is an orphan.
      const one = await launch(key, sshKey.id, "one");
      expect((await h().del(`/api/v1/instances/${one.id}`, key)).status).toBe(200);
      await tick(h(), "status-sync");
      expect((await view(h(), one.id, key)).status).toBe("deleted");
      expect(verda.volumes.has(one.upstream.osVolumeId)).toBe(false);
      expect((await h().get("/api/v1/providers/orphans?open=true")).body.data).toEqual([]);

      // Deleted in Verda's console without its volumes, and a disk made there by hand: both still charged by Verda.
      const two = await launch(key, sshKey.id, "two");
      verda.removeBehindBack(two.upstream.id);
      verda.volumes.set("0d15c000-0000-4000-8000-000000000001", {
        id: "0d15c000-0000-4000-8000-000000000001",
        status: "detached",
        name: "scratch",
        size: 500,
        type: "HDD",
        is_os_volume: false,
        created_at: new Date(h().clock.now()).toISOString(),
        target: null,
        location: "FIN-01",
        instance_id: null,
        ssh_key_ids: [],
      });
      h().clock.advance(5_000);
      await tick(h(), "status-sync");
      await tick(h(), "status-sync");
      const open = (await h().get("/api/v1/providers/orphans?open=true")).body.data;
      expect(open).toHaveLength(2);
      expect(open).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ provider: "verda", kind: "volume", upstream_id: two.upstream.osVolumeId }),
          expect.objectContaining({ kind: "volume", upstream_id: "0d15c000-0000-4000-8000-000000000001" }),
        ]),
      );
      // Announced once each (two passes saw them), to the operator.
      const found = await h().ctx.db.select().from(events).where(eq(events.type, "provider.orphan_found"));
      const volumeAlerts = found.filter((e) => (e.data as any).kind === "volume");
      expect(volumeAlerts).toHaveLength(2);
      expect(volumeAlerts.every((e) => e.tenantId === null)).toBe(true);
      expect(volumeAlerts.find((e) => (e.data as any).is_os_volume)).toBeTruthy();
      // A customer's volume is sold, not an orphan; nor is the OS volume of an instance still running.
      const three = await launch(key, sshKey.id, "three");
      await tick(h(), "status-sync");
      expect((await h().get("/api/v1/providers/orphans?open=true")).body.data).toHaveLength(2);
      expect(verda.volumes.get(three.upstream.osVolumeId)?.instance_id).toBe(three.upstream.id);

      // The operator deletes them in Verda's console: closed on the next pass.
      verda.volumes.delete(two.upstream.osVolumeId);
      verda.volumes.delete("0d15c000-0000-4000-8000-000000000001");
      await tick(h(), "status-sync");
      expect((await h().get("/api/v1/providers/orphans?open=true")).body.data).toEqual([]);
      const all = (await h().get("/api/v1/providers/orphans")).body.data;
      expect(all.filter((o: any) => o.kind === "volume").every((o: any) => o.terminated_at)).toBe(true);
    });
  },
  { manualClock: true, env: { GPUPLANE_SIMULATOR: "off", ...verda.env() } },
);
