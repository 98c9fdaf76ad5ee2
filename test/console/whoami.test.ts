import { expect, it } from "vitest";
import { describeOneDb } from "../helpers/harness.js";

// GET /api/v1/auth/whoami: how the console tells a customer from an operator.
describeOneDb("whoami", (h) => {
  it("tells a customer's key its tenant, scopes and permissions", async () => {
    const { key, tenantId, email } = await h().signup();
    const res = await h().get("/api/v1/auth/whoami", key);
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({
      operator: false,
      tenant_id: tenantId,
      node_id: null,
      tenant: { id: tenantId, contact_email: email },
      scopes: ["all"],
    });
    expect(res.body.data.permissions).toContain("write");
    expect(res.body.data.key_id).toEqual(expect.any(String));
  });

  it("tells the operator key it is the operator, with no tenant", async () => {
    const res = await h().get("/api/v1/auth/whoami");
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ operator: true, tenant_id: null, tenant: null });
  });

  it("needs a valid key", async () => {
    expect((await h().get("/api/v1/auth/whoami", null)).status).toBe(401);
    expect((await h().get("/api/v1/auth/whoami", `gpk_${"a".repeat(64)}`)).status).toBe(401);
  });

  it("refuses a key once it is revoked", async () => {
    const { key } = await h().signup();
    const created = await h().post("/api/v1/api-keys", { label: "short-lived" }, key);
    expect(created.status).toBe(201);
    const second = created.body.data.key as string;
    expect((await h().get("/api/v1/auth/whoami", second)).status).toBe(200);
    expect((await h().del(`/api/v1/api-keys/${created.body.data.id}`, key)).status).toBe(200);
    expect((await h().get("/api/v1/auth/whoami", second)).status).toBe(401);
  });
});
