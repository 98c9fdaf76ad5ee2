import { and, eq } from "drizzle-orm";
import { expect, it } from "vitest";
import { events, instances } from "../../src/db/schema/index.js";
import { describeEachDb } from "../helpers/harness.js";
import { customer, syncStatus } from "./fixtures.js";

describeEachDb(
  "instance lifecycle",
  (h) => {
    const sim = () => h().ctx.services.providers.simulator!;
    const typesOf = async (instanceId: string) =>
      (await h().ctx.db.select().from(events).orderBy(events.id))
        .filter((e) => (e.data as any).instance_id === instanceId)
        .map((e) => e.type);

    async function deploy(key: string, sshKeyId: string, extra: Record<string, unknown> = {}) {
      const res = await h().post(
        "/api/v1/deployments/clusters",
        {
          cluster_type: "1H100.80S.30V",
          image: "ubuntu-22.04-cuda-12.4-cluster",
          hostname: "box",
          ssh_key_ids: [sshKeyId],
          location: "FIN-01",
          ...extra,
        },
        key,
      );
      if (res.status !== 201) throw new Error(`deploy: ${res.status} ${res.text}`);
      return res.body.data.id as string;
    }
    const sync = () => syncStatus(h());

    it("goes ordered → provisioning → running ⇄ stopped → deleting → deleted with an event for each", async () => {
      const { key, sshKeyId } = await customer(h());
      const id = await deploy(key, sshKeyId);
      await sync();
      const [row] = await h().ctx.db.select().from(instances).where(eq(instances.id, id));
      expect(row.status).toBe("running");
      expect(row.runningSince).toEqual(h().clock.now());
      const stopped = await h().post(`/api/v1/instances/${id}/stop`, undefined, key);
      expect(stopped.body.data.status).toBe("stopped");
      const [afterStop] = await h().ctx.db.select().from(instances).where(eq(instances.id, id));
      expect(afterStop.stoppedAt).toEqual(h().clock.now());
      const started = await h().post(`/api/v1/instances/${id}/start`, undefined, key);
      expect(started.body.data.status).toBe("provisioning");
      await sync();
      expect((await h().get(`/api/v1/instances/${id}`, key)).body.data.status).toBe("running");
      const deleted = await h().del(`/api/v1/instances/${id}`, key);
      expect(deleted.body.data.status).toBe("deleted");
      expect(await typesOf(id)).toEqual([
        "instance.ordered",
        "instance.provisioning",
        "instance.running",
        "instance.stopped",
        "instance.provisioning",
        "instance.running",
        "instance.deleting",
        "instance.deleted",
      ]);
    });

    it("refuses disallowed actions with 409 naming the state", async () => {
      const { key, sshKeyId } = await customer(h());
      const id = await deploy(key, sshKeyId);
      const early = await h().post(`/api/v1/instances/${id}/start`, undefined, key);
      expect(early.status).toBe(409);
      expect(early.body.error).toContain("already provisioning");
      await sync();
      const again = await h().post(`/api/v1/instances/${id}/start`, undefined, key);
      expect(again.status).toBe(409);
      expect(again.body).toMatchObject({ code: "CONFLICT", status: "running" });
      expect(again.body.error).toContain("already running");
      await h().post(`/api/v1/instances/${id}/stop`, undefined, key);
      const twice = await h().post(`/api/v1/instances/${id}/stop`, undefined, key);
      expect(twice.status).toBe(409);
      expect(twice.body.error).toContain("already stopped");
      await h().del(`/api/v1/instances/${id}`, key);
      for (const action of ["start", "stop"]) {
        const res = await h().post(`/api/v1/instances/${id}/${action}`, undefined, key);
        expect(res.status).toBe(409);
        expect(res.body.error).toContain("deleted");
      }
      // Deleting again is harmless.
      const repeat = await h().del(`/api/v1/deployments/${id}`, key);
      expect(repeat.status).toBe(200);
      expect(repeat.body.data.status).toBe("deleted");
    });

    it("fails a provisioning the provider could not finish, with the reason and an event", async () => {
      const { key, sshKeyId } = await customer(h());
      sim().failNextProvision();
      const id = await deploy(key, sshKeyId);
      await sync();
      const res = await h().get(`/api/v1/deployments/${id}`, key);
      expect(res.body.data).toMatchObject({ status: "failed", ip: null });
      expect(res.body.data.status_reason).toContain("could not provision");
      expect((await typesOf(id)).slice(-1)).toEqual(["instance.failed"]);
      const start = await h().post(`/api/v1/deployments/${id}/start`, undefined, key);
      expect(start.status).toBe(409);
      expect((await h().del(`/api/v1/deployments/${id}`, key)).body.data.status).toBe("deleted");
    });

    it("marks an instance the provider lost as failed, with instance.lost and instance.failed queued", async () => {
      const { key, sshKeyId } = await customer(h());
      const id = await deploy(key, sshKeyId);
      await sync();
      sim().loseInstance(id);
      const result: any = await sync();
      expect(result.lost).toBe(1);
      const res = await h().get(`/api/v1/deployments/${id}`, key);
      expect(res.body.data.status).toBe("failed");
      expect(res.body.data.status_reason).toMatch(/^lost: /);
      expect((await typesOf(id)).slice(-2)).toEqual(["instance.lost", "instance.failed"]);
      const [row] = await h().ctx.db.select().from(instances).where(eq(instances.id, id));
      expect(row.stoppedAt).not.toBeNull(); // billing charges up to the loss
    });

    it("refuses below the type's first hour with 402 and leaves nothing behind", async () => {
      const { key, tenantId } = await h().signup(); // $5: less than an hour of 8× H100 ($19.92)
      const k = await h().post(
        "/api/v1/ssh-keys",
        { name: "k", public_key: (await import("./fixtures.js")).sshPublicKey() },
        key,
      );
      const res = await h().post(
        "/api/v1/instances",
        { name: "x", planId: "GPU.H100.8x", templateSlug: "pytorch-cuda", sshKeyId: k.body.data.id },
        key,
      );
      expect(res.status).toBe(402);
      expect(res.body.code).toBe("INSUFFICIENT_CREDITS");
      expect(await h().ctx.db.select().from(instances).where(eq(instances.tenantId, tenantId))).toEqual([]);
    });

    it("refuses past the GPU quota with 409", async () => {
      const { key, sshKeyId, tenantId } = await customer(h(), "1000");
      await h().patch(`/api/v1/tenants/${tenantId}`, { gpu_quota: 4 });
      await deploy(key, sshKeyId, { cluster_type: "GPU.H100.4x" });
      const res = await h().post(
        "/api/v1/instances",
        { name: "x", planId: "GPU.H100.1x", templateSlug: "pytorch-cuda", sshKeyId },
        key,
      );
      expect(res.status).toBe(409);
      expect(res.body.error).toContain("quota");
    });

    it("answers no capacity with 409 and a pointer to the waitlist", async () => {
      const { key, sshKeyId } = await customer(h());
      sim().setCapacity("ICE-01", "A100", 1);
      await deploy(key, sshKeyId, { cluster_type: "GPU.A100.1x", location: "ICE-01" });
      const res = await h().post(
        "/api/v1/deployments/clusters",
        {
          cluster_type: "GPU.A100.1x",
          image: "ubuntu-22.04-cuda-12.4-cluster",
          hostname: "b",
          ssh_key_ids: [sshKeyId],
          location: "ICE-01",
        },
        key,
      );
      expect(res.status).toBe(409);
      expect(res.body.waitlist).toEqual({ url: "/api/v1/waitlist", instance_type: "GPU.A100.1x", region: "ICE-01" });
      const offers = await h().get("/api/v1/gpus/available?region=ICE-01&gpu_model=A100", key);
      expect(offers.body.data[0].regions[0]).toMatchObject({ available: false, available_count: 0 });
    });

    it("checks capacity again on start", async () => {
      const { key, sshKeyId } = await customer(h());
      sim().setCapacity("us-east-1", "A100", 1);
      const a = await deploy(key, sshKeyId, { cluster_type: "GPU.A100.1x", location: "us-east-1" });
      await sync();
      await h().post(`/api/v1/instances/${a}/stop`, undefined, key);
      const b = await deploy(key, sshKeyId, { cluster_type: "GPU.A100.1x", location: "us-east-1" });
      const res = await h().post(`/api/v1/instances/${a}/start`, undefined, key);
      expect(res.status).toBe(409);
      expect(res.body.waitlist.region).toBe("us-east-1");
      await h().del(`/api/v1/instances/${b}`, key);
      expect((await h().post(`/api/v1/instances/${a}/start`, undefined, key)).status).toBe(200);
    });

    it("validates the request in the caller's own field names", async () => {
      const { key, sshKeyId } = await customer(h());
      const missing = await h().post(
        "/api/v1/deployments/clusters",
        { image: "x", hostname: "h", ssh_key_ids: [sshKeyId] },
        key,
      );
      expect(missing.body).toMatchObject({ code: "BAD_REQUEST", error: "cluster_type is required" });
      const plan = await h().post(
        "/api/v1/instances",
        { name: "x", planId: "GPU.NOPE.1x", templateSlug: "pytorch-cuda", sshKeyId },
        key,
      );
      expect(plan.status).toBe(400);
      expect(plan.body.error).toContain("planId");
      const incompatible = await h().post(
        "/api/v1/deployments/clusters",
        {
          cluster_type: "1B200.200S.30V",
          image: "ubuntu-22.04-cuda-12.4-cluster",
          hostname: "h",
          ssh_key_ids: [sshKeyId],
          location: "FIN-01",
        },
        key,
      );
      expect(incompatible.status).toBe(400);
      expect(incompatible.body.error).toContain("does not support B200");
      const region = await h().post(
        "/api/v1/deployments/clusters",
        {
          cluster_type: "1H100.80S.30V",
          image: "ubuntu-22.04-cuda-12.4-cluster",
          hostname: "h",
          ssh_key_ids: [sshKeyId],
          location: "MARS-1",
        },
        key,
      );
      expect(region.body.error).toContain("location 'MARS-1'");
      const key2 = await h().post(
        "/api/v1/instances",
        { name: "x", planId: "GPU.H100.1x", templateSlug: "pytorch-cuda", sshKeyId: "ssh_nope" },
        key,
      );
      expect(key2.body.error).toContain("sshKeyId");
    });

    it("accepts plan ids and cluster types interchangeably on both shapes", async () => {
      const { key, sshKeyId } = await customer(h());
      const a = await h().post(
        "/api/v1/instances",
        { name: "a", planId: "1H100.80S.30V", templateSlug: "pytorch-cuda", sshKeyId },
        key,
      );
      expect(a.body.data).toMatchObject({ planId: "GPU.H100.1x", clusterType: "1H100.80S.30V" });
      const b = await deploy(key, sshKeyId, { cluster_type: "GPU.H100.1x" });
      const got = await h().get(`/api/v1/deployments/${b}`, key);
      expect(got.body.data).toMatchObject({ cluster_type: "1H100.80S.30V", plan_id: "GPU.H100.1x" });
      // The same record under the other shape.
      expect((await h().get(`/api/v1/instances/${b}`, key)).body.data.name).toBe("box");
      expect((await h().get(`/api/v1/deployments/${a.body.data.id}`, key)).body.data.hostname).toBe("a");
    });

    it("creates exactly one instance under concurrent retries with one Idempotency-Key, and deletes once", async () => {
      const { key, sshKeyId, tenantId } = await customer(h());
      const body = {
        cluster_type: "1H100.80S.30V",
        image: "ubuntu-22.04-cuda-12.4-cluster",
        hostname: "idem",
        ssh_key_ids: [sshKeyId],
        location: "FIN-01",
      };
      const results = await Promise.all(
        Array.from({ length: 5 }, () =>
          h().post("/api/v1/deployments/clusters", body, key, { "Idempotency-Key": "deploy-idem-1" }),
        ),
      );
      const created = results.filter((r) => r.status === 201);
      expect(created.length).toBeGreaterThanOrEqual(1);
      expect(results.every((r) => r.status === 201 || r.status === 409)).toBe(true);
      expect(new Set(created.map((r) => r.body.data.id)).size).toBe(1);
      const rows = await h()
        .ctx.db.select()
        .from(instances)
        .where(and(eq(instances.tenantId, tenantId), eq(instances.name, "idem")));
      expect(rows).toHaveLength(1);
      const replay = await h().post("/api/v1/deployments/clusters", body, key, { "Idempotency-Key": "deploy-idem-1" });
      expect(replay.status).toBe(201);
      expect(replay.body.data.id).toBe(rows[0].id);
      const deletes = await Promise.all(
        Array.from({ length: 4 }, () => h().del(`/api/v1/deployments/${rows[0].id}`, key)),
      );
      expect(deletes.every((d) => d.status === 200 && d.body.data.status === "deleted")).toBe(true);
      expect((await typesOf(rows[0].id)).filter((t) => t === "instance.deleted")).toHaveLength(1);
    });

    it("hides another tenant's instances (404) from every route", async () => {
      const a = await customer(h());
      const b = await customer(h());
      const id = await deploy(a.key, a.sshKeyId);
      for (const [method, path] of [
        ["GET", `/api/v1/instances/${id}`],
        ["GET", `/api/v1/deployments/${id}`],
        ["POST", `/api/v1/instances/${id}/stop`],
        ["POST", `/api/v1/instances/${id}/start`],
        ["DELETE", `/api/v1/instances/${id}`],
        ["DELETE", `/api/v1/deployments/${id}`],
      ]) {
        expect((await h().request(method, path, { key: b.key })).status).toBe(404);
      }
      expect((await h().get("/api/v1/instances", b.key)).body.data).toEqual([]);
      const withOthersKey = await h().post(
        "/api/v1/instances",
        { name: "x", planId: "GPU.H100.1x", templateSlug: "pytorch-cuda", sshKeyId: a.sshKeyId },
        b.key,
      );
      expect(withOthersKey.status).toBe(400);
    });

    it("lets an operator act for a tenant and the system stop an instance (billing auto-stop)", async () => {
      const { key, sshKeyId, tenantId } = await customer(h());
      const op = await h().post("/api/v1/deployments/clusters", {
        cluster_type: "1H100.80S.30V",
        image: "ubuntu-22.04-cuda-12.4-cluster",
        hostname: "op",
        ssh_key_ids: [sshKeyId],
        location: "FIN-01",
        tenant_id: tenantId,
      });
      expect(op.status).toBe(201);
      expect(op.body.data.tenant_id).toBe(tenantId);
      await sync();
      const { stopInstance } = await import("../../src/domain/instances/lifecycle.js");
      const row = await stopInstance(h().ctx, {
        tenantId,
        instanceId: op.body.data.id,
        reason: "credits ran out",
        actor: "system",
      });
      expect(row).toMatchObject({ status: "stopped", statusReason: "credits ran out" });
      expect((await h().get(`/api/v1/deployments/${op.body.data.id}`, key)).body.data.status).toBe("stopped");
    });
  },
  { manualClock: true },
);
