import { expect, it } from "vitest";
import { describeEachDb } from "../helpers/harness.js";

describeEachDb("tenants", (h) => {
  it("creates a tenant with seed 002's fields and defaults", async () => {
    const res = await h().post("/api/v1/tenants", { name: "Acme", gpu_quota: 16, contact_email: "ops@acme.io" });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      code: "OK",
      data: { name: "Acme", gpu_quota: 16, contact_email: "ops@acme.io", plan_tier: "starter", status: "active" },
    });
    const full = await h().post("/api/v1/tenants", {
      name: "Big",
      gpu_quota: 64,
      plan_tier: "enterprise",
      status: "inactive",
    });
    expect(full.body.data).toMatchObject({ plan_tier: "enterprise", status: "inactive", contact_email: null });
    const got = await h().get(`/api/v1/tenants/${res.body.data.id}`);
    expect(got.body.data).toEqual(res.body.data);
  });

  it("validates create and update bodies, naming the field", async () => {
    const cases: [unknown, string][] = [
      [{ gpu_quota: 1 }, "name is required"],
      [{ name: "x" }, "gpu_quota is required"],
      [{ name: "x", gpu_quota: 0 }, "gpu_quota must be at least 1"],
      [{ name: "x", gpu_quota: "8" }, "gpu_quota must be a number"],
      [{ name: "x", gpu_quota: 2.5 }, "gpu_quota must be an integer"],
      [{ name: "", gpu_quota: 1 }, "name must not be empty"],
      [{ name: "x", gpu_quota: 1, plan_tier: "gold" }, "plan_tier"],
      [{ name: "x", gpu_quota: 1, status: "paused" }, "status"],
      [{ name: "x", gpu_quota: 1, contact_email: "nope" }, "contact_email"],
      [{ name: "x", gpu_quota: 1, owner: "me" }, "unknown field: owner"],
    ];
    for (const [body, message] of cases) {
      const res = await h().post("/api/v1/tenants", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.code).toBe("BAD_REQUEST");
      expect(res.body.error.startsWith(message), `${res.body.error} ≠ ${message}`).toBe(true);
    }
    const { body } = await h().post("/api/v1/tenants", { name: "p", gpu_quota: 2 });
    const empty = await h().patch(`/api/v1/tenants/${body.data.id}`, {});
    expect(empty.status).toBe(400);
    expect(empty.body.error).toBe("the request body names no field to change");
    expect((await h().patch(`/api/v1/tenants/${body.data.id}`, { gpu_quota: -1 })).status).toBe(400);
    expect((await h().patch(`/api/v1/tenants/${body.data.id}`, { id: 5 })).body.error).toBe("unknown field: id");
  });

  it("updates fields one at a time and keeps the rest", async () => {
    const { body } = await h().post("/api/v1/tenants", { name: "Before", gpu_quota: 4 });
    const id = body.data.id;
    const res = await h().patch(`/api/v1/tenants/${id}`, { gpu_quota: 12, plan_tier: "pro" });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ name: "Before", gpu_quota: 12, plan_tier: "pro", status: "active" });
    expect((await h().get(`/api/v1/tenants/${id}`)).body.data.gpu_quota).toBe(12);
  });

  it("answers 404 for an unknown tenant and 400 for an id that is not one", async () => {
    expect((await h().get("/api/v1/tenants/999999")).status).toBe(404);
    expect((await h().patch("/api/v1/tenants/999999", { gpu_quota: 2 })).status).toBe(404);
    for (const id of ["abc", "0", "-1", "1.5", "99999999999"]) {
      const res = await h().get(`/api/v1/tenants/${id}`);
      expect(res.status, id).toBe(400);
      expect(res.body.error, id).toMatch(/^id /);
    }
  });

  it("pages through every tenant newest first, with a cursor and a total", async () => {
    for (let i = 0; i < 7; i++) await h().post("/api/v1/tenants", { name: `page-${i}`, gpu_quota: 1 });
    const total = (await h().get("/api/v1/tenants?limit=1")).body.meta.total;
    expect(total).toBeGreaterThanOrEqual(7);
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await h().get(`/api/v1/tenants?limit=3${cursor ? `&cursor=${cursor}` : ""}`);
      expect(res.status).toBe(200);
      expect(res.body.meta.total).toBe(total);
      expect(res.body.data.length).toBeLessThanOrEqual(3);
      expect(res.body.meta.has_more).toBe(res.body.meta.cursor !== null);
      seen.push(...res.body.data.map((t: any) => t.id));
      cursor = res.body.meta.cursor;
      pages++;
    } while (cursor);
    expect(seen).toHaveLength(total);
    expect(new Set(seen).size).toBe(total);
    expect([...seen].sort((a, b) => b - a)).toEqual(seen);
    expect(pages).toBe(Math.ceil(total / 3));
  });

  it("refuses bad cursors and limits with 400, never 500", async () => {
    const forged = (id: unknown) => Buffer.from(JSON.stringify({ id })).toString("base64url");
    for (const cursor of ["garbage", "%%%", forged("abc"), forged(1.5), forged(2 ** 40), forged(null), "e30"]) {
      const res = await h().get(`/api/v1/tenants?cursor=${encodeURIComponent(cursor)}`);
      expect(res.status, cursor).toBe(400);
      expect(res.body.error).toContain("cursor");
    }
    const keys = await h().get(`/api/v1/api-keys?cursor=${forged(12)}`);
    expect(keys.status).toBe(400);
    for (const limit of ["0", "201", "abc", "-5"]) {
      const res = await h().get(`/api/v1/tenants?limit=${limit}`);
      expect(res.status, limit).toBe(400);
      expect(res.body.error).toMatch(/^limit /);
    }
  });

  it("pages a tenant's API keys too", async () => {
    const { key } = await h().signup();
    for (let i = 0; i < 4; i++) await h().post("/api/v1/api-keys", { label: `k${i}` }, key);
    const first = await h().get("/api/v1/api-keys?limit=2", key);
    expect(first.body.meta).toMatchObject({ total: 5, has_more: true });
    const second = await h().get(`/api/v1/api-keys?limit=2&cursor=${first.body.meta.cursor}`, key);
    const third = await h().get(`/api/v1/api-keys?limit=2&cursor=${second.body.meta.cursor}`, key);
    const ids = [...first.body.data, ...second.body.data, ...third.body.data].map((k: any) => k.id);
    expect(new Set(ids).size).toBe(5);
    expect(third.body.meta).toMatchObject({ has_more: false, cursor: null });
  });
});
