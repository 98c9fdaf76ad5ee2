import { expect, it } from "vitest";
import { describeEachDb } from "../helpers/harness.js";

describeEachDb(
  "bad input gets a clear 4xx in the envelope, never a 500",
  (h) => {
    const post = (raw: string, headers: Record<string, string> = {}) =>
      h().request("POST", "/api/v1/tenants", { raw, headers });

    it("refuses malformed or empty JSON", async () => {
      for (const raw of ["{", '{"name": "x",}', "not json", ""]) {
        const res = await post(raw);
        expect(res.status, raw).toBe(400);
        expect(res.body).toMatchObject({ code: "BAD_REQUEST", error: "request body is not valid JSON" });
        expect(res.body.request_id).toBe(res.headers.get("x-request-id"));
      }
    });

    it("refuses a body that is not an object, wrong types and unknown fields, naming the field", async () => {
      const cases: [string, string][] = [
        ["[]", "body must be an object"],
        ["null", "body must be an object"],
        ['"text"', "body must be an object"],
        ['{"name": 5, "gpu_quota": 1}', "name must be a string"],
        ['{"name": "x", "gpu_quota": true}', "gpu_quota must be a number"],
        ['{"name": "x", "gpu_quota": 1e400}', "gpu_quota must be a number"],
        ['{"name": "x", "gpu_quota": 1, "extra": 1, "more": 2}', "unknown fields: extra, more"],
      ];
      for (const [raw, message] of cases) {
        const res = await post(raw);
        expect(res.status, raw).toBe(400);
        expect(res.body.error, raw).toBe(message);
        expect(res.body.issues[0].message).toBe(message);
      }
    });

    it("refuses a body that is not JSON with 415", async () => {
      const res = await post('{"name":"x","gpu_quota":1}', { "content-type": "text/plain" });
      expect(res.status).toBe(415);
      expect(res.body).toMatchObject({
        code: "UNSUPPORTED_MEDIA_TYPE",
        error: "Content-Type must be application/json",
      });
    });

    it("refuses an oversized body with 413 before reading it all", async () => {
      const res = await post(JSON.stringify({ name: "x".repeat(5000), gpu_quota: 1 }));
      expect(res.status).toBe(413);
      expect(res.body).toMatchObject({ code: "PAYLOAD_TOO_LARGE", error: "request body is larger than 4096 bytes" });
    });

    it("refuses NUL characters, which PostgreSQL text cannot hold", async () => {
      const body = await post(JSON.stringify({ name: "a\u0000b", gpu_quota: 1 }));
      expect(body.status).toBe(400);
      expect(body.body.error).toContain("NUL");
      expect((await h().del("/api/v1/api-keys/key%00x")).status).toBe(400);
      // A literal backslash followed by "u0000" is fine.
      expect((await post(JSON.stringify({ name: "a\\u0000b", gpu_quota: 1 }))).status).toBe(201);
    });

    it("refuses bad and malformed keys with 401 in the envelope", async () => {
      const cases: Record<string, string>[] = [
        { authorization: "Basic dXNlcjpwYXNz" },
        { authorization: "Bearer" },
        { "x-api-key": "gpk_short" },
        { "x-api-key": "x".repeat(4000) },
        { authorization: `Bearer gpk_${"0".repeat(64)}` },
      ];
      for (const headers of cases) {
        const res = await h().request("GET", "/api/v1/tenants", { key: null, headers });
        expect(res.status, JSON.stringify(headers).slice(0, 60)).toBe(401);
        expect(res.body.code).toBe("UNAUTHORIZED");
      }
    });

    it("answers unknown routes with a 404 in the envelope", async () => {
      const res = await h().get("/api/v1/no-such-thing");
      expect(res.status).toBe(404);
      expect(res.body.code).toBe("NOT_FOUND");
    });

    it("writes nothing for a refused request", async () => {
      const before = (await h().get("/api/v1/tenants?limit=1")).body.meta.total;
      await post('{"name": "half", "gpu_quota": "x"}');
      await post('{"name": "half", "gpu_quota": 1, "status": "maybe"}');
      expect((await h().get("/api/v1/tenants?limit=1")).body.meta.total).toBe(before);
    });
  },
  { env: { GPUPLANE_MAX_BODY_BYTES: "4096" } },
);
