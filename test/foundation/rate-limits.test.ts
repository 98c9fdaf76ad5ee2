import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { defaultRateLimits } from "../../src/config.js";
import { describeEachDb } from "../helpers/harness.js";

/** Seed 000's table, as configured by default (the usual harness raises every limit out of the way). */
const seedLimits = { GPUPLANE_RATE_LIMITS: "{}" };

describe("default limits", () => {
  it("are seed 000's table", () => {
    expect(defaultRateLimits).toMatchObject({
      instance_create: 10,
      instance_action: 30,
      billing: 10,
      read: 120,
      public: 60,
    });
  });
});

describeEachDb(
  "rate limits per key owner and endpoint class",
  (h) => {
    /** Sends `n` requests; returns the statuses. */
    const burst = async (n: number, send: () => Promise<{ status: number }>) => {
      const statuses: number[] = [];
      for (let i = 0; i < n; i++) statuses.push((await send()).status);
      return statuses;
    };

    const cases: [string, number, (key: string) => [string, string]][] = [
      ["instance create", 10, () => ["POST", "/api/v1/instances"]],
      ["instance create (deployments)", 10, () => ["POST", "/api/v1/deployments/clusters"]],
      ["instance actions", 30, () => ["POST", "/api/v1/instances/inst_x/stop"]],
      ["billing", 10, () => ["GET", "/api/v1/billing/balance"]],
      ["reads", 120, () => ["GET", "/api/v1/api-keys"]],
    ];
    for (const [name, limit, route] of cases) {
      it(`allows ${limit}/min for ${name}, then 429 with Retry-After and RateLimit headers`, async () => {
        const { key } = await h().signup();
        const [method, path] = route(key);
        const send = () => h().request(method, path, { key, body: method === "POST" ? {} : undefined });
        const statuses = await burst(limit, send);
        expect(statuses.filter((s) => s === 429)).toEqual([]);
        const limited = await send();
        expect(limited.status).toBe(429);
        expect(limited.body.code).toBe("RATE_LIMITED");
        expect(limited.body.error).toContain(`rate limit of ${limit} requests per minute`);
        expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
        expect(Number(limited.headers.get("retry-after"))).toBeLessThanOrEqual(60);
        expect(limited.headers.get("ratelimit-limit")).toBe(String(limit));
        expect(limited.headers.get("ratelimit-remaining")).toBe("0");
      });
    }

    it("counts each class apart and each tenant apart, sharing one budget across a tenant's keys", async () => {
      const a = await h().signup();
      const b = await h().signup();
      const second = (await h().post("/api/v1/api-keys", { label: "second" }, a.key)).body.data.key;
      await burst(5, () => h().get("/api/v1/billing/balance", a.key));
      await burst(5, () => h().get("/api/v1/billing/balance", second));
      expect((await h().get("/api/v1/billing/balance", second)).status).toBe(429);
      expect((await h().get("/api/v1/billing/balance", a.key)).status).toBe(429);
      // Other tenant, other class: untouched.
      expect((await h().get("/api/v1/billing/balance", b.key)).status).not.toBe(429);
      const read = await h().get("/api/v1/api-keys", a.key);
      expect(read.status).toBe(200);
      expect(read.headers.get("ratelimit-limit")).toBe("120");
    });

    it("limits public endpoints per address, and counts refused keys there before touching the database", async () => {
      const r = await h().replica(); // its own limiter: the sign-ups above spent this server's public budget
      const statuses = await burst(60, () => r.get("/api/v1/regions", null));
      expect(statuses.filter((s) => s === 429)).toEqual([]);
      const limited = await r.get("/api/v1/regions", null);
      expect(limited.status).toBe(429);
      expect(limited.body.error).toContain("public");
      const bogus = await r.get("/api/v1/api-keys", `gpk_${"e".repeat(64)}`);
      expect(bogus.status).toBe(429);
      // A valid key has its own budget.
      expect((await r.get("/api/v1/api-keys", h().operatorKey)).status).toBe(200);
      await r.close();
    });
  },
  { env: seedLimits },
);

const redisUrl = process.env.TEST_REDIS_URL;

describeEachDb(
  "rate limits shared through Redis",
  (h) => {
    it.skipIf(!redisUrl)("counts one budget across two replicas", async () => {
      const prefix = `gpuplane-test-${randomBytes(6).toString("hex")}:`;
      const env = { REDIS_URL: redisUrl!, GPUPLANE_REDIS_PREFIX: prefix, GPUPLANE_RATE_LIMITS: '{"read":6}' };
      const a = await h().replica(env);
      const b = await h().replica(env);
      const { key } = await a.signup();
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) {
        statuses.push((await a.get("/api/v1/api-keys", key)).status);
        statuses.push((await b.get("/api/v1/api-keys", key)).status);
      }
      expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
      expect((await a.get("/api/v1/api-keys", key)).status).toBe(429);
      expect((await b.get("/api/v1/api-keys", key)).status).toBe(429);
      await a.close();
      await b.close();
    });

    it("keeps separate budgets per replica without Redis", async () => {
      const env = { GPUPLANE_RATE_LIMITS: '{"read":3}' };
      const a = await h().replica(env);
      const b = await h().replica(env);
      const { key } = await a.signup();
      for (let i = 0; i < 3; i++) expect((await a.get("/api/v1/api-keys", key)).status).toBe(200);
      expect((await a.get("/api/v1/api-keys", key)).status).toBe(429);
      expect((await b.get("/api/v1/api-keys", key)).status).toBe(200);
    });
  },
  {},
);
