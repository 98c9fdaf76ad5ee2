import { sql } from "drizzle-orm";
import { expect, it } from "vitest";
import { describeEachDb } from "../helpers/harness.js";

/** Audited writes: each leaves one entry with actor, tenant, request id and before/after, written in its transaction. */
describeEachDb("audit trail", (h) => {
  const entries = async (action: string, key?: string) =>
    (await h().get(`/api/v1/audit-log?action=${action}`, key)).body.data as any[];

  it("records tenant, key, credit, quota and catalog writes with actor, tenant, request id and before/after", async () => {
    const rid = { "x-request-id": "req-audit-1" };
    const t = await h().request("POST", "/api/v1/tenants", { body: { name: "acme", gpu_quota: 4 }, headers: rid });
    expect(t.status).toBe(201);
    const id = t.body.data.id;
    const [created] = await entries("tenant.create");
    expect(created).toMatchObject({
      tenant_id: id,
      actor_kind: "operator",
      request_id: "req-audit-1",
      target: `tenant:${id}`,
    });
    expect(created.actor_key_id).toBeTruthy();
    expect(created.after).toMatchObject({ name: "acme", gpu_quota: 4 });

    expect((await h().patch(`/api/v1/tenants/${id}`, { gpu_quota: 16 })).status).toBe(200);
    const [quota] = await entries("tenant.update");
    expect(quota).toMatchObject({ before: { gpu_quota: 4 }, after: { gpu_quota: 16 }, tenant_id: id });

    expect((await h().post(`/api/v1/tenants/${id}/credits`, { amount_usd: "25" })).status).toBe(201);
    const [grant] = await entries("credit.grant");
    expect(grant).toMatchObject({ tenant_id: id, after: { amount_usd: "25.000000" } });

    const key = await h().post("/api/v1/api-keys", { label: "ci", tenant_id: id });
    const [made] = await entries("api_key.create");
    expect(made).toMatchObject({ target: `api_key:${key.body.data.id}`, tenant_id: id });
    expect((await h().del(`/api/v1/api-keys/${key.body.data.id}`)).status).toBe(200);
    const [revoked] = await entries("api_key.revoke");
    expect(revoked.before.revoked_at).toBeNull();
    expect(revoked.after.revoked_at).toBeTruthy();
    // No secret material: not the key, not its hash.
    const all = JSON.stringify((await h().get("/api/v1/audit-log?limit=200")).body.data);
    expect(all).not.toContain(key.body.data.key);
    expect(all).not.toMatch(/key_hash|password|"secret"/);
  });

  it("lets a tenant read its own entries only, and refuses another tenant's", async () => {
    const a = await h().signup();
    const b = await h().signup();
    await h().post("/api/v1/api-keys", { label: "mine" }, a.key);
    const mine = (await h().get("/api/v1/audit-log", a.key)).body.data as any[];
    expect(mine.map((e) => e.action)).toEqual(expect.arrayContaining(["tenant.signup", "api_key.create"]));
    expect(mine.every((e) => e.tenant_id === a.tenantId)).toBe(true);
    expect((await h().get(`/api/v1/audit-log?tenant_id=${a.tenantId}`, b.key)).status).toBe(404);
    expect(
      ((await h().get("/api/v1/audit-log", b.key)).body.data as any[]).some((e) => e.tenant_id === a.tenantId),
    ).toBe(false);
  });

  it("rolls a write back with its entry when the transaction fails after the audit insert", async () => {
    const db = h().database.db;
    await db.execute(sql`create or replace function audit_fail() returns trigger language plpgsql as $$
      begin raise exception 'forced failure after the audit insert'; end $$`);
    // Deferred: fires at commit, after every statement of the write's transaction.
    await db.execute(sql`create constraint trigger audit_fail after insert on audit_log
      deferrable initially deferred for each row when (new.action = 'tenant.update') execute function audit_fail()`);
    try {
      const t = await h().post("/api/v1/tenants", { name: "rollback", gpu_quota: 2 });
      const res = await h().patch(`/api/v1/tenants/${t.body.data.id}`, { gpu_quota: 9 });
      expect(res.status).toBe(500);
      expect((await h().get(`/api/v1/tenants/${t.body.data.id}`)).body.data.gpu_quota).toBe(2);
      const left = (await h().get(`/api/v1/audit-log?target=tenant:${t.body.data.id}`)).body.data as any[];
      expect(left.map((e) => e.action)).toEqual(["tenant.create"]);
    } finally {
      await db.execute(sql`drop trigger audit_fail on audit_log`);
    }
  });
});
