import { expect, it } from "vitest";
import { describeEachDb } from "../helpers/harness.js";

describeEachDb("health, docs, metrics and request ids", (h) => {
  it("reports health with the database kind", async () => {
    const res = await h().get("/healthz", null);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "ok", database: h().kind });
  });

  it("serves an OpenAPI 3.1 document generated from the route schemas", async () => {
    const res = await h().get("/openapi.json", null);
    expect(res.status).toBe(200);
    const doc = res.body;
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info).toMatchObject({ title: "gpuplane API" });
    for (const path of ["/api/v1/auth/register", "/api/v1/auth/login", "/api/v1/api-keys", "/api/v1/tenants"]) {
      expect(doc.paths, path).toHaveProperty([path]);
    }
    expect(doc.paths["/api/v1/tenants/{id}"]).toHaveProperty("patch");
    expect(doc.components.securitySchemes).toHaveProperty("ApiKey");
    expect(doc.components.schemas).toHaveProperty("Tenant");
    // Every operation declares responses, and every $ref resolves.
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(item)) {
        expect(Object.keys(op.responses ?? {}).length, `${method} ${path}`).toBeGreaterThan(0);
      }
    }
    const refs = [...res.text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]);
    for (const ref of refs) expect(doc.components.schemas, ref).toHaveProperty([ref]);
    // The register body is the validating schema itself.
    const register = doc.paths["/api/v1/auth/register"].post.requestBody.content["application/json"].schema;
    const schema = register.$ref ? doc.components.schemas[register.$ref.split("/").pop()] : register;
    expect(schema.required).toEqual(expect.arrayContaining(["email", "password"]));
  });

  it("serves interactive docs as HTML", async () => {
    const res = await h().get("/docs", null);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/html/);
    expect(res.text).toContain("/openapi.json");
  });

  it("exposes Prometheus metrics labelled by route pattern", async () => {
    const { tenantId } = await h().signup();
    await h().get(`/api/v1/tenants/${tenantId}`);
    const res = await h().get("/metrics", null);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/plain/);
    expect(res.text).toContain("# TYPE gpuplane_http_requests_total counter");
    expect(res.text).toMatch(
      /gpuplane_http_requests_total\{method="GET",route="\/api\/v1\/tenants\/:id",status="200"\} \d+/,
    );
    expect(res.text).toContain("gpuplane_http_request_duration_seconds_bucket");
    expect(res.text).not.toContain(`/tenants/${tenantId}"`);
  });

  it("echoes a sent X-Request-Id, or makes one, on success and error alike", async () => {
    const sent = await h().request("GET", "/api/v1/tenants", { headers: { "x-request-id": "trace-abc.123" } });
    expect(sent.headers.get("x-request-id")).toBe("trace-abc.123");
    const made = await h().get("/api/v1/tenants/abc");
    expect(made.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(made.body.request_id).toBe(made.headers.get("x-request-id"));
    const unsafe = await h().request("GET", "/healthz", { headers: { "x-request-id": "bad id <script>" } });
    expect(unsafe.headers.get("x-request-id")).not.toContain("<");
  });
});

describeEachDb(
  "metrics behind a token",
  (h) => {
    it("answers /metrics only with GPUPLANE_METRICS_TOKEN as a bearer token", async () => {
      const none = await h().get("/metrics", null);
      expect(none.status).toBe(401);
      expect(none.headers.get("www-authenticate")).toContain("Bearer");
      expect(none.body.error).toContain("GPUPLANE_METRICS_TOKEN");
      const wrong = await h().request("GET", "/metrics", { headers: { authorization: "Bearer not-the-token-at-all" } });
      expect(wrong.status).toBe(401);
      const right = await h().request("GET", "/metrics", {
        headers: { authorization: "Bearer scrape-token-0123456789" },
      });
      expect(right.status).toBe(200);
      expect(right.text).toContain("gpuplane_http_requests_total");
    });
  },
  { env: { GPUPLANE_METRICS_TOKEN: "scrape-token-0123456789" } },
);

describeEachDb("structured request logs", (h) => {
  it("writes one JSON line per request with its id, route, status and duration", async () => {
    const { Writable } = await import("node:stream");
    const pino = (await import("pino")).default;
    const { buildServer } = await import("../../src/server.js");
    const { testConfig } = await import("../helpers/harness.js");
    const lines: any[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const line of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    const server = await buildServer(testConfig({ LOG_LEVEL: "info" }), {
      database: h().database,
      log: pino({ level: "info" }, sink),
      workers: false,
    });
    await server.app.request("/api/v1/tenants", { headers: { "x-api-key": h().operatorKey, "x-request-id": "log-1" } });
    const line = lines.find((l) => l.req_id === "log-1");
    expect(line).toMatchObject({ msg: "request", method: "GET", path: "/api/v1/tenants", status: 200 });
    expect(typeof line.ms).toBe("number");
    expect(line.key).toMatch(/^key_/);
    expect(JSON.stringify(lines)).not.toContain(h().operatorKey);
    await server.close();
  });
});
