import { and, eq, like } from "drizzle-orm";
import { expect, it } from "vitest";
import { apiKeys, idempotencyKeys, tenants } from "../../src/db/schema/index.js";
import { sha256Hex } from "../../src/lib/secrets.js";
import { describeEachDb, OPERATOR_KEY } from "../helpers/harness.js";

const idem = (key: string) => ({ "idempotency-key": key });

describeEachDb("idempotency keys", (h) => {
  const countTenants = async (name: string) =>
    (await h().ctx.db.select().from(tenants).where(eq(tenants.name, name))).length;

  it("replays a completed create byte for byte and creates nothing twice", async () => {
    const body = { name: "idem-once", gpu_quota: 3 };
    const first = await h().post("/api/v1/tenants", body, undefined, idem("create-1"));
    expect(first.status).toBe(201);
    const again = await h().post("/api/v1/tenants", body, undefined, idem("create-1"));
    expect(again.status).toBe(201);
    expect(again.text).toBe(first.text);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.headers.get("x-request-id")).toBeTruthy();
    expect(await countTenants("idem-once")).toBe(1);
    // Without the header every request runs.
    await h().post("/api/v1/tenants", body);
    expect(await countTenants("idem-once")).toBe(2);
  });

  it("refuses the same key with a different body or path with 422 and a clear error", async () => {
    await h().post("/api/v1/tenants", { name: "idem-a", gpu_quota: 1 }, undefined, idem("reuse-1"));
    const other = await h().post("/api/v1/tenants", { name: "idem-b", gpu_quota: 1 }, undefined, idem("reuse-1"));
    expect(other.status).toBe(422);
    expect(other.body.code).toBe("UNPROCESSABLE");
    expect(other.body.error).toContain("Idempotency-Key 'reuse-1' was already used for a different request");
    expect(await countTenants("idem-b")).toBe(0);
    const elsewhere = await h().post("/api/v1/api-keys", { label: "x" }, undefined, idem("reuse-1"));
    expect(elsewhere.status).toBe(422);
    expect(elsewhere.body.error).toContain("POST /api/v1/tenants");
  });

  it("answers 409 while the first request is in flight, and lets a retry take over a stale one", async () => {
    const body = JSON.stringify({ name: "idem-inflight", gpu_quota: 1 });
    const [operator] = await h()
      .ctx.db.select()
      .from(apiKeys)
      .where(eq(apiKeys.keyHash, sha256Hex(OPERATOR_KEY)));
    const [row] = await h()
      .ctx.db.insert(idempotencyKeys)
      .values({
        owner: `k:${operator.id}`,
        key: "inflight-1",
        method: "POST",
        path: "/api/v1/tenants",
        requestHash: sha256Hex(`POST /api/v1/tenants\n${body}`),
        state: "in_flight",
        createdAt: new Date(),
      })
      .returning();
    const busy = await h().request("POST", "/api/v1/tenants", { raw: body, headers: idem("inflight-1") });
    expect(busy.status).toBe(409);
    expect(busy.body).toMatchObject({ code: "CONFLICT" });
    expect(busy.body.error).toContain("still being processed");
    expect(await countTenants("idem-inflight")).toBe(0);
    // Its server died a while ago: the retry runs.
    await h()
      .ctx.db.update(idempotencyKeys)
      .set({ createdAt: new Date(Date.now() - 120_000) })
      .where(eq(idempotencyKeys.id, row.id));
    const retry = await h().request("POST", "/api/v1/tenants", { raw: body, headers: idem("inflight-1") });
    expect(retry.status).toBe(201);
    expect(await countTenants("idem-inflight")).toBe(1);
  });

  it("lets concurrent duplicates through exactly once", async () => {
    const email = `race-${h().kind}@example.com`;
    const body = { email, password: "correct horse battery" };
    const results = await Promise.all(
      Array.from({ length: 5 }, () => h().post("/api/v1/auth/register", body, null, idem("race-1"))),
    );
    const created = results.filter((r) => r.status === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    for (const r of results) expect([201, 409]).toContain(r.status);
    expect(results.some((r) => r.status === 409)).toBe(true);
    for (const r of created) expect(r.text).toBe(created[0].text);
    expect((await h().ctx.db.select().from(tenants).where(eq(tenants.email, email))).length).toBe(1);
  });

  it("does not store errors, so a corrected retry with the same key runs", async () => {
    const bad = await h().post("/api/v1/tenants", { name: "idem-fix" }, undefined, idem("fix-1"));
    expect(bad.status).toBe(400);
    const good = await h().post("/api/v1/tenants", { name: "idem-fix", gpu_quota: 1 }, undefined, idem("fix-1"));
    expect(good.status).toBe(201);
  });

  it("covers deletes, and scopes keys to the API key that sent them", async () => {
    const { key } = await h().signup();
    const made = (await h().post("/api/v1/api-keys", { label: "to-delete" }, key)).body.data;
    const first = await h().del(`/api/v1/api-keys/${made.id}`, key, idem("del-1"));
    const again = await h().del(`/api/v1/api-keys/${made.id}`, key, idem("del-1"));
    expect(first.status).toBe(200);
    expect(again.text).toBe(first.text);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    // Another caller's identical key name is a different key.
    const mine = await h().post("/api/v1/tenants", { name: "idem-scope", gpu_quota: 1 }, undefined, idem("del-1"));
    expect(mine.status).toBe(201);
  });

  it("stores a created key's secret only sealed, and still replays it", async () => {
    const { key } = await h().signup();
    const first = await h().post("/api/v1/api-keys", { label: "sealed" }, key, idem("secret-1"));
    const secret = first.body.data.key;
    const again = await h().post("/api/v1/api-keys", { label: "sealed" }, key, idem("secret-1"));
    expect(again.text).toBe(first.text);
    const rows = await h().ctx.db.select().from(idempotencyKeys).where(eq(idempotencyKeys.key, "secret-1"));
    expect(rows).toHaveLength(1);
    expect(rows[0].responseBody).not.toContain(secret);
    expect(rows[0].responseBody).not.toContain("sealed");
    const signupRows = await h().ctx.db.select().from(idempotencyKeys).where(eq(idempotencyKeys.key, "race-1"));
    expect(signupRows[0].responseBody).not.toMatch(/gpk_/);
  });

  it("holds across a rebuilt server and between replicas on one database", async () => {
    const body = { name: "idem-replica", gpu_quota: 2 };
    const first = await h().post("/api/v1/tenants", body, undefined, idem("replica-1"));
    const rebuilt = await h().replica();
    const replayed = await rebuilt.post("/api/v1/tenants", body, undefined, idem("replica-1"));
    expect(replayed.status).toBe(201);
    expect(replayed.text).toBe(first.text);
    const changed = await rebuilt.post("/api/v1/tenants", { ...body, gpu_quota: 3 }, undefined, idem("replica-1"));
    expect(changed.status).toBe(422);

    // Two replicas racing one key: one creates, the other waits its turn (409) or replays.
    const email = `replicas-${h().kind}@example.com`;
    const signup = { email, password: "correct horse battery" };
    const results = await Promise.all([
      h().post("/api/v1/auth/register", signup, null, idem("replica-race")),
      rebuilt.post("/api/v1/auth/register", signup, null, idem("replica-race")),
      h().post("/api/v1/auth/register", signup, null, idem("replica-race")),
      rebuilt.post("/api/v1/auth/register", signup, null, idem("replica-race")),
    ]);
    for (const r of results) expect([201, 409]).toContain(r.status);
    expect((await h().ctx.db.select().from(tenants).where(eq(tenants.email, email))).length).toBe(1);
    const after = await rebuilt.post("/api/v1/auth/register", signup, null, idem("replica-race"));
    expect(after.status).toBe(201);
    expect(after.headers.get("idempotent-replayed")).toBe("true");
    await rebuilt.close();
    const rows = await h()
      .ctx.db.select()
      .from(idempotencyKeys)
      .where(and(eq(idempotencyKeys.key, "replica-race"), like(idempotencyKeys.owner, "anon:%")));
    expect(rows).toHaveLength(1);
  });

  it("refuses a malformed Idempotency-Key", async () => {
    const res = await h().post("/api/v1/tenants", { name: "x", gpu_quota: 1 }, undefined, idem("x".repeat(256)));
    expect(res.status).toBe(400);
    expect(res.body.error).toContain("Idempotency-Key");
  });
});
