import { readdirSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../helpers/harness.js";
import { buildConsoleIfStale } from "./build.js";

describe("the server serves the built console", () => {
  let h: Harness;
  beforeAll(async () => {
    buildConsoleIfStale();
    h = await createHarness("pglite");
  });
  afterAll(async () => {
    await h?.close();
  });

  it("answers / and client-side routes with index.html, not cached", async () => {
    for (const path of ["/", "/instances/new", "/operator/fleet"]) {
      const res = await h.app.request(path);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toContain("text/html");
      expect(res.headers.get("cache-control")).toBe("no-cache");
      expect(await res.text()).toContain('<div id="root">');
    }
  });

  it("serves hashed assets with their type, cached for good", async () => {
    const script = readdirSync("web/dist/assets").find((f) => f.endsWith(".js"))!;
    const res = await h.app.request(`/assets/${script}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/javascript");
    expect(res.headers.get("cache-control")).toContain("immutable");
  });

  it("keeps the console's first-load JavaScript under 300 KB gzip", async () => {
    const html = await (await h.app.request("/")).text();
    const scripts = [...html.matchAll(/<script[^>]+src="([^"]+)"/g)].map((m) => m[1]);
    expect(scripts.length).toBeGreaterThan(0);
    let gzipped = 0;
    for (const src of scripts) {
      const body = Buffer.from(await (await h.app.request(src)).arrayBuffer());
      gzipped += gzipSync(body, { level: 9 }).length;
    }
    console.info(`console first-load JS: ${(gzipped / 1024).toFixed(1)} KB gzip`);
    expect(gzipped).toBeLessThan(300 * 1024);
  });

  it("answers a missing asset with 404, never index.html in its place", async () => {
    const res = await h.app.request("/assets/index-gone.js");
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).not.toContain("text/html");
  });

  it("leaves the API, docs and health to their own routes", async () => {
    const api = await h.get("/api/v1/nothing-here");
    expect(api.status).toBe(404);
    expect(api.body.code).toBe("NOT_FOUND");
    expect((await h.app.request("/healthz")).headers.get("content-type")).toContain("application/json");
    expect((await h.app.request("/openapi.json")).headers.get("content-type")).toContain("application/json");
  });

  it("does not serve files outside web/dist", async () => {
    for (const path of ["/../package.json", "/..%2fpackage.json", "/../dist2/x.js"]) {
      const res = await h.app.request(path);
      expect(await res.text()).not.toContain('"name": "gpuplane"');
    }
  });
});
