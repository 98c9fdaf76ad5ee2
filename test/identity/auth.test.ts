import { eq } from "drizzle-orm";
import { expect, it } from "vitest";
import { apiKeys, ledgerEntries, tenants } from "../../src/db/schema/index.js";
import { describeEachDb } from "../helpers/harness.js";

const password = "correct horse battery";

describeEachDb("sign-up and login", (h) => {
  it("registers a tenant with its first key, full access, and the sign-up credit in the ledger", async () => {
    const res = await h().post("/api/v1/auth/register", { email: "Ada@Example.com", password, name: "Ada" }, null);
    expect(res.status).toBe(201);
    const { tenant, api_key } = res.body.data;
    expect(tenant).toMatchObject({ name: "Ada", contact_email: "ada@example.com", status: "active" });
    expect(api_key.key).toMatch(/^gpk_[0-9a-f]{64}$/);
    expect(api_key).toMatchObject({ tenant_id: tenant.id, scopes: ["all"], permissions: ["read", "write"] });
    expect(JSON.stringify(res.body)).not.toMatch(/password|hash/i);

    const ledger = await h().ctx.db.select().from(ledgerEntries).where(eq(ledgerEntries.tenantId, tenant.id));
    expect(ledger).toHaveLength(1);
    expect(ledger[0]).toMatchObject({
      kind: "signup_credit",
      amountMicros: 5_000_000n,
      balanceAfterMicros: 5_000_000n,
    });

    const [row] = await h().ctx.db.select().from(tenants).where(eq(tenants.id, tenant.id));
    expect(row.passwordHash).toMatch(/^scrypt\$/);
    expect(row.passwordHash).not.toContain(password);
    // The new key works at once.
    expect((await h().get("/api/v1/api-keys", api_key.key)).status).toBe(200);
  });

  it("refuses a second account with the same email, whatever its case, and writes nothing", async () => {
    const email = "dup@example.com";
    expect((await h().post("/api/v1/auth/register", { email, password }, null)).status).toBe(201);
    const before = await h().ctx.db.select().from(tenants);
    const again = await h().post("/api/v1/auth/register", { email: "DUP@example.com", password }, null);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: "CONFLICT", error: "an account with this email already exists" });
    expect(await h().ctx.db.select().from(tenants)).toHaveLength(before.length);
  });

  it("validates the sign-up body with messages naming the field", async () => {
    const cases: [unknown, RegExp][] = [
      [{ password }, /^email is required$/],
      [{ email: "not-an-email", password }, /^email/],
      [{ email: "x@example.com" }, /^password is required$/],
      [{ email: "x@example.com", password: "short" }, /password must be at least 8 characters/],
      [{ email: "x@example.com", password, plan: "free" }, /^unknown field: plan$/],
    ];
    for (const [body, message] of cases) {
      const res = await h().post("/api/v1/auth/register", body, null);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.code).toBe("BAD_REQUEST");
      expect(res.body.error).toMatch(message);
    }
  });

  it("logs in with the right password and refuses a wrong one or an unknown email with the same 401", async () => {
    const { email, tenantId } = await h().signup();
    const ok = await h().post("/api/v1/auth/login", { email, password }, null);
    expect(ok.status).toBe(200);
    expect(ok.body.data.tenant.id).toBe(tenantId);
    expect(ok.body.data.api_key.expires_at).not.toBeNull();
    expect((await h().get("/api/v1/api-keys", ok.body.data.api_key.key)).status).toBe(200);

    const wrong = await h().post("/api/v1/auth/login", { email, password: "wrong password!" }, null);
    const unknown = await h().post("/api/v1/auth/login", { email: "nobody@example.com", password }, null);
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body.error).toBe(unknown.body.error);
  });

  it("refuses login to an inactive account", async () => {
    const { email, tenantId } = await h().signup();
    expect((await h().patch(`/api/v1/tenants/${tenantId}`, { status: "inactive" })).status).toBe(200);
    const res = await h().post("/api/v1/auth/login", { email, password }, null);
    expect(res.status).toBe(401);
    expect(res.body.error).toContain("inactive");
    const keys = await h().ctx.db.select().from(apiKeys).where(eq(apiKeys.tenantId, tenantId));
    expect(keys).toHaveLength(1); // no session key was made
  });
});

describeEachDb(
  "sign-up credit setting",
  (h) => {
    it("grants the configured credit, and none when it is 0", async () => {
      const { tenantId } = await h().signup();
      const ledger = await h().ctx.db.select().from(ledgerEntries).where(eq(ledgerEntries.tenantId, tenantId));
      expect(ledger.map((e) => e.amountMicros)).toEqual([12_340_000n]);
      const zero = await h().replica({ GPUPLANE_SIGNUP_CREDIT_USD: "0" });
      const other = await zero.signup();
      expect(await h().ctx.db.select().from(ledgerEntries).where(eq(ledgerEntries.tenantId, other.tenantId))).toEqual(
        [],
      );
    });
  },
  { env: { GPUPLANE_SIGNUP_CREDIT_USD: "12.34" } },
);

describeEachDb(
  "console sessions",
  (h) => {
    it("are short-lived tokens that are not listed among API keys, and end on log-out", async () => {
      const { email, key } = await h().signup();
      const listed = async () => (await h().get("/api/v1/api-keys", key)).body.data.map((k: any) => k.label);
      expect(await listed()).toEqual(["default"]);

      const sessions: string[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await h().post("/api/v1/auth/login", { email, password }, null);
        expect(res.status).toBe(200);
        expect(Date.parse(res.body.data.api_key.expires_at) - h().clock.now().getTime()).toBe(12 * 3600_000);
        sessions.push(res.body.data.api_key.key);
      }
      // Three log-ins later the tenant still has one API key; each session works.
      expect(await listed()).toEqual(["default"]);
      for (const session of sessions) expect((await h().get("/api/v1/auth/whoami", session)).status).toBe(200);
      // A session is not an API key: revoking it by id is a 404, for the tenant's own key too.
      const whoami = (await h().get("/api/v1/auth/whoami", sessions[0])).body.data;
      expect((await h().del(`/api/v1/api-keys/${whoami.key_id}`, key)).status).toBe(404);

      // Log-out ends the session presented, and only it.
      expect((await h().post("/api/v1/auth/logout", undefined, sessions[0])).status).toBe(204);
      expect((await h().get("/api/v1/auth/whoami", sessions[0])).status).toBe(401);
      expect((await h().get("/api/v1/auth/whoami", sessions[1])).status).toBe(200);
      // An API key cannot log out (it would be revoked by accident): 409, and it keeps working.
      const refused = await h().post("/api/v1/auth/logout", undefined, key);
      expect(refused.status).toBe(409);
      expect(refused.body.error).toMatch(/not a console session/);
      expect((await h().get("/api/v1/auth/whoami", key)).status).toBe(200);

      // Twelve hours on, the sessions have expired; the API key has not.
      h().clock.advance(12 * 3600_000 + 1000);
      expect((await h().get("/api/v1/auth/whoami", sessions[1])).status).toBe(401);
      expect((await h().get("/api/v1/auth/whoami", key)).status).toBe(200);
    });
  },
  { manualClock: true },
);
