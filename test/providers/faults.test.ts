import { eq } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { events, instances, upstreamLaunches } from "../../src/db/schema/index.js";
import { providers } from "../../src/domain/placement/registry.js";
import { claimLaunches, runLaunches } from "../../src/domain/providers/launch.js";
import { describeEachDb } from "../helpers/harness.js";
import { customer } from "../instances/fixtures.js";
import { LambdaFake } from "./fakes/lambda.js";
import { VerdaFake } from "./fakes/verda.js";
import { connect, tick, view } from "./helpers.js";

const lambda = await new LambdaFake().start();
const verda = await new VerdaFake().start();
afterAll(() => Promise.all([lambda.stop(), verda.stop()]));

async function order(h: any, key: string, sshKeyId: string) {
  const created = await h.post(
    "/api/v1/instances",
    { name: "job", planId: "GPU.H100.1x", templateSlug: "pytorch-cuda", sshKeyId },
    key,
  );
  if (created.status !== 201) throw new Error(`create: ${created.status} ${created.text}`);
  return created.body.data.id as string;
}

/** Failover, crash adoption, orphans, lost instances, rate limits and failing clouds, with Lambda and Verda both resold. */
describeEachDb(
  "resold clouds under faults",
  (h) => {
    beforeAll(() => {
      lambda.reset();
      verda.reset();
    });
    it("fails over from Lambda, whose capacity list says yes while its launch says no, to Verda", async () => {
      lambda.types[0].priceCents = 199; // cheaper than Verda's $2.19: tried first
      await connect(h(), { lambda, verda });
      lambda.launchable = new Set();
      const { key, sshKeyId } = await customer(h());
      const id = await order(h(), key, sshKeyId);
      const stats = await tick(h(), "provisioning");
      expect(stats).toMatchObject({ launched: 1, failedOver: 1, failed: 0 });
      expect(
        lambda
          .calls("POST", "/instance-operations/launch")
          .map((c) => c.body.region_name)
          .sort(),
      ).toEqual(["us-east-1", "us-west-1"]);
      expect(verda.byHostname(`gp-${id}`)).toHaveLength(1);
      expect(await view(h(), id, key)).toMatchObject({ status: "provisioning", region: "FIN-01" });
      lambda.launchable = null;
      lambda.types[0].priceCents = 249;
    });

    it("adopts the instance a launch created when its answer was lost, instead of launching a second", async () => {
      await connect(h(), { lambda, verda });
      const { key, sshKeyId } = await customer(h());
      const id = await order(h(), key, sshKeyId);
      verda.fault({ method: "POST", path: "/instances", dropAnswer: true });
      const stats = await tick(h(), "provisioning");
      expect(stats).toMatchObject({ adopted: 1, launched: 0 });
      const upstream = verda.byHostname(`gp-${id}`);
      expect(upstream).toHaveLength(1);
      const [row] = await h().ctx.db.select().from(instances).where(eq(instances.id, id));
      expect(row).toMatchObject({ status: "provisioning", provider: "verda", providerRef: upstream[0].id });
    });

    it("a launch that timed out is found by its tag on the retry, not launched again", async () => {
      await connect(h(), { lambda, verda });
      const { key, sshKeyId } = await customer(h());
      const id = await order(h(), key, sshKeyId);
      // Verda takes 2.5 s to answer (past the 1 s timeout) and launches anyway.
      verda.fault({ method: "POST", path: "/instances", delayMs: 2_500 });
      expect(await tick(h(), "provisioning")).toMatchObject({ deferred: 1, launched: 0 });
      expect((await view(h(), id, key)).status).toBe("ordered");
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      h().clock.advance(5_000); // past the retry backoff
      expect(await tick(h(), "provisioning")).toMatchObject({ adopted: 1, launched: 0 });
      expect(verda.byHostname(`gp-${id}`)).toHaveLength(1);
      // Verda's hostname is the tag in letters, digits and hyphens (contracts/verda.ts).
      const hostname = `gp-${id}`.replace("_", "-");
      expect(verda.calls("POST", "/instances").filter((c) => c.body.hostname === hostname)).toHaveLength(1);
      expect((await view(h(), id, key)).status).toBe("provisioning");
    });

    it("a worker that crashed between the upstream's launch and its commit is adopted after its lease, not relaunched", async () => {
      await connect(h(), { lambda, verda });
      const { key, sshKeyId } = await customer(h());
      const id = await order(h(), key, sshKeyId);
      // The crashed worker: it claimed the order and launched on Verda, then died before committing.
      const [claim] = await claimLaunches(h().ctx, 1);
      expect(claim.instance.id).toBe(id);
      await providers(h().ctx)
        .upstream!.cloud("verda")
        .launch({
          name: `gp-${id}`,
          upstreamType: "1H100.80S.30V",
          upstreamRegion: "FIN-01",
          image: "ubuntu-22.04-cuda-12.4-docker",
          sshPublicKeys: claim.instance.sshPublicKeys,
        });
      // Within the lease nobody touches it; after it, the next pass finds the launch by its tag.
      expect(await tick(h(), "provisioning")).toMatchObject({ launched: 0, adopted: 0 });
      h().clock.advance(121_000);
      expect(await tick(h(), "provisioning")).toMatchObject({ adopted: 1, launched: 0 });
      expect(verda.byHostname(`gp-${id}`)).toHaveLength(1);
      expect((await view(h(), id, key)).status).toBe("provisioning");
    });

    it("two replicas' provisioning passes at once launch each order once", async () => {
      await connect(h(), { lambda, verda });
      const { key, sshKeyId } = await customer(h());
      const ids = [];
      for (let i = 0; i < 6; i++) ids.push(await order(h(), key, sshKeyId));
      const other = await h().replica();
      const [a, b] = await Promise.all([runLaunches(h().ctx), runLaunches(other.ctx)]);
      expect(a.launched + b.launched).toBe(6);
      for (const id of ids) expect(verda.byHostname(`gp-${id}`)).toHaveLength(1);
      await other.close();
    });

    it("alerts on an orphan within one pass, and terminates it after the operator's grace", async () => {
      await connect(h(), { lambda, verda });
      const patched = await h().patch("/api/v1/providers/lambda", { orphan_grace_seconds: 300 });
      expect(patched.body.data.orphan_grace_seconds).toBe(300);
      // A launch whose answer was lost and whose order is gone: tagged, but no record claims it.
      lambda.sshKeys.set("laptop", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOrphanOrphanOrphanOrphanOrphanOrphan0 ops");
      const launched = await fetch(`${lambda.url}/instance-operations/launch`, {
        method: "POST",
        headers: { authorization: `Bearer ${lambda.apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({
          region_name: "us-east-1",
          instance_type_name: "gpu_1x_h100_sxm5",
          ssh_key_names: ["laptop"],
          name: "gp-inst_vanished",
        }),
      });
      const orphanId = (await launched.json()).data.instance_ids[0];
      await tick(h(), "status-sync");
      const orphans = await h().get("/api/v1/providers/orphans?open=true");
      expect(orphans.body.data).toContainEqual(
        expect.objectContaining({
          provider: "lambda",
          upstream_id: orphanId,
          name: "gp-inst_vanished",
          terminated_at: null,
        }),
      );
      const found = await h().ctx.db.select().from(events).where(eq(events.type, "provider.orphan_found"));
      expect(found.map((e: any) => e.data.upstream_id)).toContain(orphanId);

      h().clock.advance(200_000);
      await tick(h(), "status-sync");
      expect(lambda.instances.get(orphanId)!.terminatedAt).toBeNull();
      h().clock.advance(101_000);
      await tick(h(), "status-sync");
      expect(lambda.instances.get(orphanId)!.terminatedAt).not.toBeNull();
      const after = await h().get("/api/v1/providers/orphans");
      expect(after.body.data.find((o: any) => o.upstream_id === orphanId).terminated_at).not.toBeNull();
    });

    it("an instance deleted behind gpuplane's back is lost, billed only until the last pass that saw it", async () => {
      await connect(h(), { lambda, verda });
      lambda.types[0].priceCents = 199;
      await connect(h(), { lambda });
      const { key, sshKeyId } = await customer(h());
      const id = await order(h(), key, sshKeyId);
      await tick(h(), "provisioning");
      const [upstream] = lambda.byName(`gp-${id}`);
      expect(upstream).toBeDefined();
      h().clock.advance(lambda.bootMs);
      await tick(h(), "status-sync");
      const [running] = await h().ctx.db.select().from(instances).where(eq(instances.id, id));
      expect(running.status).toBe("running");
      h().clock.advance(30_000);
      await tick(h(), "status-sync");
      const lastSeen = h().clock.now();
      lambda.removeBehindBack(upstream.id);
      h().clock.advance(30_000);
      await tick(h(), "status-sync");
      const [lost] = await h().ctx.db.select().from(instances).where(eq(instances.id, id));
      expect(lost.status).toBe("failed");
      expect(lost.statusReason).toMatch(/lost: lambda no longer lists it/);
      expect(lost.stoppedAt!.getTime()).toBe(lastSeen.getTime());
      const [launch] = await h().ctx.db.select().from(upstreamLaunches).where(eq(upstreamLaunches.instanceId, id));
      expect(launch.lastSeenAt!.getTime()).toBe(lastSeen.getTime());
      lambda.types[0].priceCents = 249;
    });

    it("keeps the last known state when a cloud answers 200 with an error body, and the loop goes on", async () => {
      await connect(h(), { lambda, verda });
      const { key, sshKeyId } = await customer(h());
      const id = await order(h(), key, sshKeyId);
      await tick(h(), "provisioning");
      verda.fault({
        method: "GET",
        path: "/instances",
        answer: { status: 200, body: { code: "server_error", message: "oops" } },
      });
      h().clock.advance(200_000);
      const stats = await tick(h(), "status-sync");
      const verdaStats = stats.upstreams.find((s: any) => s.provider === "verda");
      expect(verdaStats.error).toMatch(/unexpected answer/);
      expect((await view(h(), id, key)).status).toBe("provisioning");
      await tick(h(), "status-sync");
      expect((await view(h(), id, key)).status).toBe("running");
    });

    it("honours Lambda's 429 and Retry-After between launches", async () => {
      await connect(h(), { lambda });
      lambda.types[0].priceCents = 100;
      await connect(h(), { lambda });
      // A fresh window: an earlier test's launch less than a second ago must not refuse this test's first launch.
      lambda.limitLaunches(1_000);
      const { key, sshKeyId } = await customer(h());
      const before = lambda.calls("POST", "/instance-operations/launch").length;
      const ids = [await order(h(), key, sshKeyId), await order(h(), key, sshKeyId)];
      const stats = await tick(h(), "provisioning");
      expect(stats.launched).toBe(2);
      const calls = lambda.calls("POST", "/instance-operations/launch").slice(before);
      expect(calls.length).toBe(3); // one refused with 429, resent after its Retry-After
      const times = calls.map((c) => c.at).sort((x, y) => x - y);
      expect(times[2] - times[0]).toBeGreaterThanOrEqual(900);
      for (const id of ids) expect(lambda.byName(`gp-${id}`)).toHaveLength(1);
      lambda.launchIntervalMs = 0;
      lambda.types[0].priceCents = 249;
    });

    it("answers 502 BAD_GATEWAY while Lambda is paused (circuit breaker); a failed terminate is sent again", async () => {
      await connect(h(), { lambda });
      lambda.types[0].priceCents = 100;
      await connect(h(), { lambda });
      const { key, sshKeyId } = await customer(h());
      const id = await order(h(), key, sshKeyId);
      await tick(h(), "provisioning");
      // Lambda keeps failing: five passes cannot list its instances, and the breaker opens.
      lambda.fault({
        path: "/instances",
        answer: { status: 503, text: "upstream connect error" },
        offContract: true,
        times: 1000,
      });
      for (let i = 0; i < 5; i++) await tick(h(), "status-sync");
      const before = lambda.calls("POST", "/instance-operations/terminate").length;
      const paused = await h().del(`/api/v1/instances/${id}`, key);
      expect(paused.status).toBe(502);
      expect(paused.body.code).toBe("BAD_GATEWAY");
      expect(paused.body.error).toMatch(/paused/);
      expect(lambda.calls("POST", "/instance-operations/terminate").length).toBe(before);
      // Nothing half-written: the instance is as it was.
      expect((await view(h(), id, key)).status).toBe("provisioning");

      // Back, but its terminate fails: the delete is committed (deleting, still billed) and sent again later.
      lambda.faults = [];
      h().clock.advance(31_000);
      lambda.fault({
        path: "/instance-operations/terminate",
        answer: { status: 503, text: "upstream connect error" },
        offContract: true,
        times: 1000,
      });
      const deleting = await h().del(`/api/v1/instances/${id}`, key);
      expect(deleting.status).toBe(200);
      expect(deleting.body.data.status).toBe("deleting");
      lambda.faults = [];
      await tick(h(), "status-sync");
      expect((await view(h(), id, key)).status).toBe("deleting"); // Lambda still lists it; resent after 30 s
      h().clock.advance(31_000);
      await tick(h(), "status-sync");
      h().clock.advance(5_000);
      await tick(h(), "status-sync");
      expect((await view(h(), id, key)).status).toBe("deleted");
      lambda.types[0].priceCents = 249;
    });
  },
  {
    manualClock: true,
    env: {
      GPUPLANE_SIMULATOR: "off",
      ...lambda.env(),
      ...verda.env(),
      GPUPLANE_UPSTREAM_TIMEOUT_S: "1",
    },
  },
);
