import { expect, it } from "vitest";
import { describeEachDb } from "../helpers/harness.js";
import { sshPublicKey } from "../instances/fixtures.js";

/** Issue 23, finding 6: naming a tenant or region that does not exist was a 500 (a foreign-key violation). */
describeEachDb("references to records that do not exist", (h) => {
  const missing = 999_999;

  it("answers 404 when an operator creates a resource for a tenant that does not exist, writing nothing", async () => {
    const attempts: [string, Record<string, unknown>][] = [
      ["/api/v1/ssh-keys", { name: "k", public_key: sshPublicKey(), tenant_id: missing }],
      ["/api/v1/volumes", { name: "v", size_gb: 10, region: "FIN-01", tenant_id: missing }],
      ["/api/v1/webhooks", { url: "https://example.com/h", events: ["instance.*"], tenant_id: missing }],
      ["/api/v1/waitlist", { plan_id: "GPU.B200.1x", region: "FIN-01", tenant_id: missing }],
    ];
    for (const [path, body] of attempts) {
      const res = await h().post(path, body);
      expect(res.status, `${path}: ${res.text}`).toBe(404);
      expect(res.body.error, path).toBe("tenant not found");
    }
    for (const path of ["/api/v1/ssh-keys", "/api/v1/volumes", "/api/v1/webhooks"]) {
      const list = await h().get(`${path}?limit=200`);
      expect(
        list.body.data.filter((r: any) => r.tenant_id === missing),
        path,
      ).toEqual([]);
    }
  });

  it("answers 400 naming a region that does not exist in region_prices, and changes nothing", async () => {
    const before = await h().get("/api/v1/instance-types/h100-80gb-1x");
    expect(before.status, before.text).toBe(200);
    const res = await h().patch("/api/v1/instance-types/h100-80gb-1x", {
      price_per_hour: "9.99",
      region_prices: { "NOWHERE-9": "3.00" },
    });
    expect(res.status, res.text).toBe(400);
    expect(res.body.error).toMatch(/region.*NOWHERE-9/);
    const after = await h().get("/api/v1/instance-types/h100-80gb-1x");
    expect(after.body.data).toEqual(before.body.data);
  });
});
