import { eq } from "drizzle-orm";
import { expect, it } from "vitest";
import { apiKeys } from "../../src/db/schema/index.js";
import { sha256Hex } from "../../src/lib/secrets.js";
import { describeEachDb } from "../helpers/harness.js";

describeEachDb("api keys", (h) => {
  it("creates a key whose secret is shown once and stored only as its SHA-256", async () => {
    const { tenantId } = await h().signup();
    const res = await h().post("/api/v1/api-keys", { label: "ci", tenant_id: tenantId, permissions: ["read"] });
    expect(res.status).toBe(201);
    const { key, id } = res.body.data;
    expect(key).toMatch(/^gpk_[0-9a-f]{64}$/);
    const [row] = await h().ctx.db.select().from(apiKeys).where(eq(apiKeys.id, id));
    expect(row.keyHash).toBe(sha256Hex(key));
    expect(JSON.stringify(row)).not.toContain(key);
    const listed = await h().get(`/api/v1/api-keys?tenant_id=${tenantId}`);
    expect(listed.body.data.find((k: any) => k.id === id)).not.toHaveProperty("key");
  });

  it("accepts both X-API-Key and Authorization: Bearer", async () => {
    const { key } = await h().signup();
    const a = await h().request("GET", "/api/v1/api-keys", { key: null, headers: { "x-api-key": key } });
    const b = await h().request("GET", "/api/v1/api-keys", { key: null, headers: { authorization: `Bearer ${key}` } });
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(a.body.data.map((k: any) => k.id)).toEqual(b.body.data.map((k: any) => k.id));
  });

  it("refuses a missing, malformed or unknown key with 401", async () => {
    expect((await h().get("/api/v1/api-keys", null)).status).toBe(401);
    const bad = await h().request("GET", "/api/v1/api-keys", { key: null, headers: { authorization: "Basic abc" } });
    expect(bad.status).toBe(401);
    expect(bad.body.code).toBe("UNAUTHORIZED");
    expect((await h().get("/api/v1/api-keys", `gpk_${"f".repeat(64)}`)).status).toBe(401);
  });

  it("stops a revoked key at once", async () => {
    const { key } = await h().signup();
    const second = await h().post("/api/v1/api-keys", { label: "temp" }, key);
    expect(second.status).toBe(201);
    expect((await h().get("/api/v1/api-keys", second.body.data.key)).status).toBe(200);
    expect((await h().del(`/api/v1/api-keys/${second.body.data.id}`, key)).status).toBe(200);
    expect((await h().get("/api/v1/api-keys", second.body.data.key)).status).toBe(401);
  });

  it("gives a read-only key 403 on writes and a narrow scope 403 elsewhere", async () => {
    const { key } = await h().signup();
    const ro = (await h().post("/api/v1/api-keys", { label: "ro", permissions: ["read"] }, key)).body.data.key;
    const res = await h().post("/api/v1/api-keys", { label: "x" }, ro);
    expect(res.status).toBe(403);
    expect(res.body.error).toContain("write");
    const billingOnly = (await h().post("/api/v1/api-keys", { label: "b", scopes: ["billing"] }, key)).body.data.key;
    expect((await h().get("/api/v1/api-keys", billingOnly)).status).toBe(403);
  });

  it("never lets a tenant key grant admin or see another tenant's keys", async () => {
    const a = await h().signup();
    const b = await h().signup();
    expect((await h().post("/api/v1/api-keys", { label: "x", permissions: ["admin"] }, a.key)).status).toBe(403);
    expect((await h().post("/api/v1/api-keys", { label: "x", tenant_id: b.tenantId }, a.key)).status).toBe(404);
    const bKeys = await h().get(`/api/v1/api-keys?tenant_id=${b.tenantId}`);
    expect((await h().del(`/api/v1/api-keys/${bKeys.body.data[0].id}`, a.key)).status).toBe(404);
  });

  it("refuses the keys of an inactive tenant", async () => {
    const { key, tenantId } = await h().signup();
    expect((await h().patch(`/api/v1/tenants/${tenantId}`, { status: "inactive" })).status).toBe(200);
    const res = await h().get("/api/v1/api-keys", key);
    expect(res.status).toBe(401);
    expect(res.body.error).toContain("inactive");
  });
});
