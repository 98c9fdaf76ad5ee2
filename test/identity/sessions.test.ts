import { expect, it } from "vitest";
import { describeEachDb } from "../helpers/harness.js";

const password = "correct horse battery";

describeEachDb("console sessions: listed and revocable", (h) => {
  /** Signs up and logs in: the tenant's API key, its session token and the session's id. */
  async function loggedIn() {
    const account = await h().signup();
    const res = await h().post("/api/v1/auth/login", { email: account.email, password }, null);
    expect(res.status).toBe(200);
    return { ...account, session: res.body.data.api_key.key as string, sessionId: res.body.data.api_key.id as string };
  }

  it("lists a tenant's own open sessions with who logged in, and the operator sees every tenant's or one's", async () => {
    const ada = await loggedIn();
    const bob = await loggedIn();
    const mine = await h().get("/api/v1/sessions", ada.key);
    expect(mine.status).toBe(200);
    expect(mine.body.data.map((s: any) => s.id)).toEqual([ada.sessionId]);
    expect(mine.body.data[0]).toMatchObject({ tenant_id: ada.tenantId, login_email: ada.email, revoked_at: null });
    expect(mine.body.data[0].expires_at).not.toBeNull();
    expect(mine.body.data[0]).not.toHaveProperty("key");
    // Another tenant's filter is 404 for a tenant key.
    expect((await h().get(`/api/v1/sessions?tenant_id=${bob.tenantId}`, ada.key)).status).toBe(404);

    const all = await h().get("/api/v1/sessions?limit=100");
    expect(all.status).toBe(200);
    const ids = all.body.data.map((s: any) => s.id);
    expect(ids).toContain(ada.sessionId);
    expect(ids).toContain(bob.sessionId);
    const bobs = await h().get(`/api/v1/sessions?tenant_id=${bob.tenantId}`);
    expect(bobs.body.data.map((s: any) => s.id)).toEqual([bob.sessionId]);
    expect((await h().get("/api/v1/sessions?tenant=1")).status).toBe(400); // unknown parameter
  });

  it("lets a tenant revoke its own session, which stops authenticating at once; another tenant's is 404", async () => {
    const ada = await loggedIn();
    const bob = await loggedIn();
    expect((await h().get("/api/v1/auth/whoami", ada.session)).status).toBe(200); // cached as verified
    const cross = await h().del(`/api/v1/sessions/${ada.sessionId}`, bob.key);
    expect(cross.status).toBe(404);
    expect(cross.body.code).toBe("NOT_FOUND");
    expect((await h().get("/api/v1/auth/whoami", ada.session)).status).toBe(200);
    // An API key is not a session.
    const keys = await h().get("/api/v1/api-keys", ada.key);
    expect((await h().del(`/api/v1/sessions/${keys.body.data[0].id}`, ada.key)).status).toBe(404);

    const res = await h().del(`/api/v1/sessions/${ada.sessionId}`, ada.key);
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ id: ada.sessionId, revoked_keys: 0 });
    expect(res.body.data.revoked_at).not.toBeNull();
    const after = await h().get("/api/v1/auth/whoami", ada.session);
    expect(after.status).toBe(401);
    expect((await h().get("/api/v1/sessions", ada.key)).body.data).toEqual([]);
    expect((await h().get("/api/v1/auth/whoami", ada.key)).status).toBe(200); // the tenant's API key is untouched
  });

  it("lets the operator revoke any tenant's session", async () => {
    const ada = await loggedIn();
    expect((await h().get("/api/v1/auth/whoami", ada.session)).status).toBe(200);
    const res = await h().del(`/api/v1/sessions/${ada.sessionId}`);
    expect(res.status).toBe(200);
    expect((await h().get("/api/v1/auth/whoami", ada.session)).status).toBe(401);
    expect((await h().del("/api/v1/sessions/key_nonexistent")).status).toBe(404);
  });

  it("ties a key created from a session to it and the person, and revoke_minted revokes it with the session", async () => {
    const ada = await loggedIn();
    const minted = await h().post("/api/v1/api-keys", { label: "from the console" }, ada.session);
    expect(minted.status).toBe(201);
    expect(minted.body.data).toMatchObject({ created_by_session_id: ada.sessionId, login_email: ada.email });
    const byKey = await h().post("/api/v1/api-keys", { label: "from a program" }, ada.key);
    expect(byKey.body.data).toMatchObject({ created_by_session_id: null, login_email: null });
    const listed = await h().get("/api/v1/api-keys", ada.key);
    expect(listed.body.data.find((k: any) => k.id === minted.body.data.id)).toMatchObject({
      created_by_session_id: ada.sessionId,
      login_email: ada.email,
    });

    const mintedKey = minted.body.data.key;
    expect((await h().get("/api/v1/auth/whoami", mintedKey)).status).toBe(200);
    const res = await h().del(`/api/v1/sessions/${ada.sessionId}?revoke_minted=true`, ada.key);
    expect(res.status).toBe(200);
    expect(res.body.data.revoked_keys).toBe(1);
    expect((await h().get("/api/v1/auth/whoami", mintedKey)).status).toBe(401);
    expect((await h().get("/api/v1/auth/whoami", ada.session)).status).toBe(401);
    expect((await h().get("/api/v1/auth/whoami", byKey.body.data.key)).status).toBe(200);
    expect((await h().get("/api/v1/auth/whoami", ada.key)).status).toBe(200);
  });

  it("keeps minted keys by default, and logout with revoke_minted=true revokes them", async () => {
    const ada = await loggedIn();
    const kept = (await h().post("/api/v1/api-keys", { label: "kept" }, ada.session)).body.data.key;
    expect((await h().del(`/api/v1/sessions/${ada.sessionId}`, ada.key)).body.data.revoked_keys).toBe(0);
    expect((await h().get("/api/v1/auth/whoami", kept)).status).toBe(200);

    const again = await h().post("/api/v1/auth/login", { email: ada.email, password }, null);
    const session = again.body.data.api_key.key;
    const minted = (await h().post("/api/v1/api-keys", { label: "gone" }, session)).body.data.key;
    expect((await h().get("/api/v1/auth/whoami", minted)).status).toBe(200);
    expect((await h().post("/api/v1/auth/logout?revoke_minted=maybe", undefined, session)).status).toBe(400);
    expect((await h().post("/api/v1/auth/logout?revoke_minted=true", undefined, session)).status).toBe(204);
    expect((await h().get("/api/v1/auth/whoami", minted)).status).toBe(401);
    expect((await h().get("/api/v1/auth/whoami", session)).status).toBe(401);
    expect((await h().get("/api/v1/auth/whoami", kept)).status).toBe(200); // another session's key stays
  });
});
