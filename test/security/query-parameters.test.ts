import { expect, it } from "vitest";
import { describeEachDb } from "../helpers/harness.js";
import { customer } from "../instances/fixtures.js";

/** Issue 23, finding 3: an operator's `tenant_id` filter was silently ignored, and unknown parameters accepted. */
describeEachDb("query parameters are validated like bodies", (h) => {
  it("answers 400 naming an unknown query parameter, on lists and on routes that declare no query", async () => {
    const { key } = await h().signup();
    const list = await h().get("/api/v1/instances?tenant=4&limit=5", key);
    expect(list.status, list.text).toBe(400);
    expect(list.body.error).toBe("unknown query parameter: tenant");
    const two = await h().get("/api/v1/ssh-keys?foo=1&bar=2");
    expect(two.status).toBe(400);
    expect(two.body.error).toBe("unknown query parameters: foo, bar");
    const none = await h().get("/api/v1/auth/whoami?verbose=true", key);
    expect(none.status).toBe(400);
    expect(none.body.error).toBe("unknown query parameter: verbose");
    const post = await h().post("/api/v1/ssh-keys?dry_run=true", { name: "x", public_key: "ssh-ed25519 AAAA" }, key);
    expect(post.status).toBe(400);
    expect(post.body.error).toBe("unknown query parameter: dry_run");
    // Documented parameters still pass.
    expect((await h().get("/api/v1/instances?limit=5&include_deleted=true", key)).status).toBe(200);
  });

  it("applies the operator's tenant_id on every per-tenant list", { timeout: 60_000 }, async () => {
    const a = await customer(h());
    const b = await customer(h());
    for (const c of [a, b]) {
      const inst = await h().post(
        "/api/v1/instances",
        { name: "box", planId: "GPU.H100.1x", templateSlug: "pytorch-cuda", sshKeyId: c.sshKeyId },
        c.key,
      );
      expect(inst.status, inst.text).toBe(201);
      const vol = await h().post("/api/v1/volumes", { name: "data", size_gb: 10, region: "FIN-01" }, c.key);
      expect(vol.status, vol.text).toBe(201);
    }
    for (const path of ["/api/v1/instances", "/api/v1/deployments", "/api/v1/ssh-keys", "/api/v1/volumes"]) {
      const ids = async (query: string, key?: string) => {
        const res = await h().get(`${path}?limit=200${query}`, key);
        expect(res.status, `${path}${query}: ${res.text}`).toBe(200);
        expect(res.body.meta.total, path).toBe(res.body.data.length);
        return (res.body.data as { id: string }[]).map((r) => r.id).sort();
      };
      const ownA = await ids("", a.key);
      const ownB = await ids("", b.key);
      expect(ownA.length, path).toBeGreaterThan(0);
      const all = await ids("");
      expect(all, path).toEqual(expect.arrayContaining([...ownA, ...ownB]));
      expect(await ids(`&tenant_id=${a.tenantId}`), path).toEqual(ownA);
      expect(await ids(`&tenant_id=${b.tenantId}`), path).toEqual(ownB);
      // A tenant naming another tenant gets 404, naming itself its own list.
      expect((await h().get(`${path}?tenant_id=${b.tenantId}`, a.key)).status, path).toBe(404);
      expect(await ids(`&tenant_id=${a.tenantId}`, a.key), path).toEqual(ownA);
    }
  });
});
