import { and, eq, isNull } from "drizzle-orm";
import pino from "pino";
import { expect, it } from "vitest";
import { apiKeys } from "../../src/db/schema/index.js";
import { sha256Hex } from "../../src/lib/secrets.js";
import { buildServer } from "../../src/server.js";
import { describeEachDb, OPERATOR_KEY, testConfig } from "../helpers/harness.js";

const HOUR = 60 * 60 * 1000;

describeEachDb(
  "api key expiry and last use",
  (h) => {
    it("accepts a key until its expires_at, then refuses it with 401", async () => {
      const { key } = await h().signup();
      const expiresAt = new Date(h().clock.now().getTime() + HOUR).toISOString();
      const created = await h().post("/api/v1/api-keys", { label: "short", expires_at: expiresAt }, key);
      expect(created.status).toBe(201);
      expect(created.body.data.expires_at).toBe(expiresAt);
      const short = created.body.data.key;
      expect((await h().get("/api/v1/api-keys", short)).status).toBe(200);
      h().clock.advance(HOUR + 1000);
      const res = await h().get("/api/v1/api-keys", short);
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ code: "UNAUTHORIZED", error: "API key has expired" });
      expect((await h().get("/api/v1/api-keys", key)).status).toBe(200); // the tenant's other key is unaffected
    });

    it("refuses an expires_at in the past or not in ISO 8601", async () => {
      const { key } = await h().signup();
      const past = new Date(h().clock.now().getTime() - 1000).toISOString();
      const res = await h().post("/api/v1/api-keys", { label: "x", expires_at: past }, key);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe("expires_at must be in the future");
      const bad = await h().post("/api/v1/api-keys", { label: "x", expires_at: "tomorrow" }, key);
      expect(bad.status).toBe(400);
      expect(bad.body.error).toMatch(/^expires_at/);
    });

    it("records last_used_at to the minute", async () => {
      const { key } = await h().signup();
      const made = await h().post("/api/v1/api-keys", { label: "probe" }, key);
      expect(made.body.data.last_used_at).toBeNull();
      const usedAt = h().clock.now().toISOString();
      await h().get("/api/v1/api-keys", made.body.data.key);
      const lastUsed = async () => {
        const [row] = await h().ctx.db.select().from(apiKeys).where(eq(apiKeys.id, made.body.data.id));
        return row.lastUsedAt?.toISOString() ?? null;
      };
      await expect.poll(lastUsed).toBe(usedAt);
      // Within the minute no further write; after it, the next use is recorded.
      h().clock.advance(30_000);
      await h().get("/api/v1/api-keys", made.body.data.key);
      h().clock.advance(61_000);
      const later = h().clock.now().toISOString();
      await new Promise((r) => setTimeout(r, 5_100)); // let the verified-key cache expire
      await h().get("/api/v1/api-keys", made.body.data.key);
      await expect.poll(lastUsed).toBe(later);
      const listed = await h().get("/api/v1/api-keys", key);
      expect(listed.body.data.find((k: any) => k.id === made.body.data.id).last_used_at).toBe(later);
    });
  },
  { manualClock: true },
);

describeEachDb("scopes and permissions", (h) => {
  it("lets an operator key manage tenants, and keeps tenant keys out of the operator's routes", async () => {
    const tenant = await h().signup();
    const other = await h().signup();
    expect((await h().post("/api/v1/tenants", { name: "t", gpu_quota: 1 }, tenant.key)).status).toBe(403);
    expect((await h().get("/api/v1/tenants", tenant.key)).status).toBe(403);
    expect((await h().patch(`/api/v1/tenants/${tenant.tenantId}`, { gpu_quota: 99 }, tenant.key)).status).toBe(403);
    expect((await h().get(`/api/v1/tenants/${tenant.tenantId}`, tenant.key)).status).toBe(200);
    expect((await h().get(`/api/v1/tenants/${other.tenantId}`, tenant.key)).status).toBe(404);
  });

  it("applies admin ⊃ write ⊃ read to operator keys", async () => {
    const readOnly = await h().post("/api/v1/api-keys", { label: "ops-ro", permissions: ["read"] });
    expect(readOnly.status).toBe(201);
    expect(readOnly.body.data.tenant_id).toBeNull();
    const ro = readOnly.body.data.key;
    expect((await h().get("/api/v1/tenants", ro)).status).toBe(200);
    const write = await h().post("/api/v1/tenants", { name: "x", gpu_quota: 1 }, ro);
    expect(write.status).toBe(403);
    expect(write.body.error).toContain("'write' permission");
    // A non-admin operator key cannot mint operator keys.
    const writer = (await h().post("/api/v1/api-keys", { label: "ops-rw", permissions: ["read", "write"] })).body.data;
    expect((await h().post("/api/v1/api-keys", { label: "y" }, writer.key)).status).toBe(403);
  });

  it("never lets a tenant key grant a scope it does not hold", async () => {
    const { key } = await h().signup();
    const billing = (await h().post("/api/v1/api-keys", { label: "b", scopes: ["billing", "api-keys"] }, key)).body.data
      .key;
    const wider = await h().post("/api/v1/api-keys", { label: "w", scopes: ["instances"] }, billing);
    expect(wider.status).toBe(403);
    expect(wider.body.error).toContain("instances");
    expect((await h().post("/api/v1/api-keys", { label: "n", scopes: ["billing"] }, billing)).status).toBe(201);
    const unknown = await h().post("/api/v1/api-keys", { label: "u", scopes: ["everything"] }, key);
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatch(/^scopes\.0/);
  });

  it("lists only the caller's own keys, and revoked keys drop out", async () => {
    const a = await h().signup();
    const extra = (await h().post("/api/v1/api-keys", { label: "extra" }, a.key)).body.data;
    const mine = await h().get("/api/v1/api-keys", a.key);
    expect(mine.body.data.map((k: any) => k.tenant_id)).toEqual([a.tenantId, a.tenantId]);
    const operatorOwn = await h().get("/api/v1/api-keys");
    expect(operatorOwn.body.data.every((k: any) => k.tenant_id === null)).toBe(true);
    await h().del(`/api/v1/api-keys/${extra.id}`, a.key);
    const after = await h().get("/api/v1/api-keys", a.key);
    expect(after.body.data.map((k: any) => k.id)).not.toContain(extra.id);
    expect(after.body.meta.total).toBe(1);
  });
});

describeEachDb("bootstrap operator key", (h) => {
  it("registers exactly GPUPLANE_ADMIN_KEY on a database with no operator key", async () => {
    const rows = await h()
      .ctx.db.select()
      .from(apiKeys)
      .where(and(isNull(apiKeys.tenantId), isNull(apiKeys.nodeId)));
    expect(rows).toHaveLength(1);
    expect(rows[0].keyHash).toBe(sha256Hex(OPERATOR_KEY));
    expect(rows[0].permissions).toContain("admin");
    expect(h().server.generatedKey).toBeUndefined();
    expect((await h().get("/api/v1/tenants", OPERATOR_KEY)).status).toBe(200);
  });

  it("leaves a database that has an operator key alone, whatever GPUPLANE_ADMIN_KEY says", async () => {
    const other = `gpk_${"a".repeat(64)}`;
    const replica = await h().replica({ GPUPLANE_ADMIN_KEY: other });
    expect(replica.server.generatedKey).toBeUndefined();
    expect((await replica.get("/api/v1/tenants", other)).status).toBe(401);
    await replica.close();
  });

  it("generates a key and hands it over once when GPUPLANE_ADMIN_KEY is unset", async () => {
    // A second, empty database: drop the operator key from this one's view by using a fresh PGlite.
    const { openDatabase } = await import("../../src/db/client.js");
    const database = await openDatabase({ dataDir: "memory://" });
    const config = { ...testConfig(), adminKey: undefined };
    const first = await buildServer(config, { database, log: pino({ level: "silent" }), workers: false });
    expect(first.generatedKey).toMatch(/^gpk_[0-9a-f]{64}$/);
    const res = await first.app.request("/api/v1/tenants", { headers: { "x-api-key": first.generatedKey! } });
    expect(res.status).toBe(200);
    await first.close();
    const second = await buildServer(config, { database, log: pino({ level: "silent" }), workers: false });
    expect(second.generatedKey).toBeUndefined();
    await second.close();
    await database.close();
  });
});

describeEachDb(
  "configurable key prefix",
  (h) => {
    it("issues keys with GPUPLANE_KEY_PREFIX and keeps accepting keys made with another prefix", async () => {
      const { key, tenantId } = await h().signup();
      expect(key).toMatch(/^wn_ak_[0-9a-f]{64}$/);
      const made = await h().post("/api/v1/api-keys", { label: "x" }, key);
      expect(made.body.data.key).toMatch(/^wn_ak_[0-9a-f]{64}$/);
      expect(made.body.data.prefix).toMatch(/^wn_ak_[0-9a-f]{6}…$/);
      expect(h().operatorKey.startsWith("gpk_")).toBe(true);
      expect((await h().get(`/api/v1/tenants/${tenantId}`, h().operatorKey)).status).toBe(200);
      // Reactivating a tenant lets its keys in again.
      await h().patch(`/api/v1/tenants/${tenantId}`, { status: "inactive" });
      expect((await h().get("/api/v1/api-keys", key)).status).toBe(401);
      await h().patch(`/api/v1/tenants/${tenantId}`, { status: "active" });
      expect((await h().get("/api/v1/api-keys", key)).status).toBe(200);
    });
  },
  { env: { GPUPLANE_KEY_PREFIX: "wn_ak_" } },
);
