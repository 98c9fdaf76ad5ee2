import { eq } from "drizzle-orm";
import { expect, it } from "vitest";
import { webhookEndpoints } from "../../src/db/schema/index.js";
import { describeEachDb } from "../helpers/harness.js";

describeEachDb("webhook endpoints", (h) => {
  it("creates an endpoint whose whsec_ secret is shown once", async () => {
    const { key } = await h().signup();
    const res = await h().post(
      "/api/v1/webhooks",
      { url: "https://example.com/hook", events: ["instance.*", "waitlist.available"], description: "ops" },
      key,
    );
    expect(res.status).toBe(201);
    const { id, secret } = res.body.data;
    expect(id).toMatch(/^wh_/);
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(Buffer.from(secret.slice(6), "base64").length).toBeGreaterThanOrEqual(24);
    expect(res.body.data).toMatchObject({ status: "active", events: ["instance.*", "waitlist.available"] });
    const one = await h().get(`/api/v1/webhooks/${id}`, key);
    expect(one.status).toBe(200);
    expect(one.text).not.toContain(secret);
    const list = await h().get("/api/v1/webhooks", key);
    expect(list.body.data.map((w: any) => w.id)).toEqual([id]);
    expect(list.text).not.toContain(secret);
  });

  it("refuses URLs that are not http(s) and unknown or operator-only event names", async () => {
    const { key } = await h().signup();
    for (const url of ["ftp://example.com/x", "javascript:alert(1)", "not a url", "file:///etc/passwd"]) {
      const res = await h().post("/api/v1/webhooks", { url, events: ["*"] }, key);
      expect(res.status, url).toBe(400);
      expect(res.body.error).toContain("url");
    }
    const unknown = await h().post("/api/v1/webhooks", { url: "https://x.test/h", events: ["instance.exploded"] }, key);
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toContain("instance.exploded");
    const bogusDomain = await h().post("/api/v1/webhooks", { url: "https://x.test/h", events: ["foo.*"] }, key);
    expect(bogusDomain.status).toBe(400);
    const alerts = await h().post("/api/v1/webhooks", { url: "https://x.test/h", events: ["alert.opened"] }, key);
    expect(alerts.status).toBe(400);
    expect(alerts.body.error).toContain("operator");
    const empty = await h().post("/api/v1/webhooks", { url: "https://x.test/h", events: [] }, key);
    expect(empty.status).toBe(400);
    expect(empty.body.error).toContain("events");
  });

  it("lets an operator key own endpoints for operator events (tenant null)", async () => {
    const res = await h().post("/api/v1/webhooks", { url: "https://ops.test/h", events: ["alert.*", "node.down"] });
    expect(res.status).toBe(201);
    expect(res.body.data.tenant_id).toBeNull();
  });

  it("answers 404 for another tenant's webhook, on every route", async () => {
    const a = await h().signup();
    const b = await h().signup();
    const id = (await h().post("/api/v1/webhooks", { url: "https://a.test/h", events: ["*"] }, a.key)).body.data.id;
    expect((await h().get(`/api/v1/webhooks/${id}`, b.key)).status).toBe(404);
    expect((await h().get(`/api/v1/webhooks/${id}/deliveries`, b.key)).status).toBe(404);
    expect((await h().post(`/api/v1/webhooks/${id}/test`, undefined, b.key)).status).toBe(404);
    expect((await h().patch(`/api/v1/webhooks/${id}`, { url: "https://evil.test/" }, b.key)).status).toBe(404);
    expect((await h().del(`/api/v1/webhooks/${id}`, b.key)).status).toBe(404);
    expect((await h().get("/api/v1/webhooks", b.key)).body.data).toEqual([]);
    expect((await h().get(`/api/v1/webhooks?tenant_id=${a.tenantId}`, b.key)).status).toBe(404);
    expect((await h().get(`/api/v1/webhooks/${id}`, a.key)).body.data.url).toBe("https://a.test/h");
  });

  it("updates, pauses, re-enables and deletes an endpoint", async () => {
    const { key } = await h().signup();
    const id = (await h().post("/api/v1/webhooks", { url: "https://a.test/h", events: ["*"] }, key)).body.data.id;
    const patched = await h().patch(`/api/v1/webhooks/${id}`, { events: ["billing.*"], description: "money" }, key);
    expect(patched.body.data).toMatchObject({ events: ["billing.*"], description: "money" });
    const paused = await h().patch(`/api/v1/webhooks/${id}`, { status: "disabled" }, key);
    expect(paused.body.data).toMatchObject({ status: "disabled", disabled_reason: "disabled by its owner" });
    await h().ctx.db.update(webhookEndpoints).set({ consecutiveFailures: 7 }).where(eq(webhookEndpoints.id, id));
    const enabled = await h().patch(`/api/v1/webhooks/${id}`, { status: "active" }, key);
    expect(enabled.body.data).toMatchObject({ status: "active", disabled_reason: null, consecutive_failures: 0 });
    expect((await h().del(`/api/v1/webhooks/${id}`, key)).status).toBe(200);
    expect((await h().get(`/api/v1/webhooks/${id}`, key)).status).toBe(404);
  });

  it("needs the webhooks scope and write permission", async () => {
    const { key } = await h().signup();
    const ro = (await h().post("/api/v1/api-keys", { label: "ro", permissions: ["read"] }, key)).body.data.key;
    expect((await h().post("/api/v1/webhooks", { url: "https://a.test/h", events: ["*"] }, ro)).status).toBe(403);
    expect((await h().get("/api/v1/webhooks", ro)).status).toBe(200);
    const billing = (await h().post("/api/v1/api-keys", { label: "b", scopes: ["billing"] }, key)).body.data.key;
    expect((await h().get("/api/v1/webhooks", billing)).status).toBe(403);
  });
});
