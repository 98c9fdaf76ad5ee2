import { expect, it } from "vitest";
import { describeOneDb } from "../helpers/harness.js";

/** Issue 23, findings 7 and 8: aborted bodies counted as 500s, invalid UTF-8 accepted, statuses undeclared. */
describeOneDb("request bodies and declared statuses", (h) => {
  it("counts a body the client aborts under its own label, not as a 500", async () => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"name":"x'));
        controller.error(new Error("aborted"));
      },
    });
    const res = await h().app.request("/api/v1/auth/register", {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": "100" },
      body,
      duplex: "half",
    } as RequestInit);
    expect(res.status).not.toBe(500);
    const metrics = await (await h().app.request("/metrics")).text();
    expect(metrics).toMatch(/gpuplane_http_requests_total\{[^}]*status="aborted"[^}]*\} 1/);
    expect(metrics).not.toMatch(/gpuplane_http_requests_total\{[^}]*status="500"/);
  });

  it("refuses invalid UTF-8 in a JSON body with 400", async () => {
    const bytes = Buffer.concat([Buffer.from('{"label":"a'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    const res = await h().app.request("/api/v1/api-keys", {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": h().operatorKey },
      body: bytes,
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toBe("the request body is not valid UTF-8");
  });

  it("declares 409 and 401 where the routes give them", async () => {
    const doc = (await h().get("/openapi.json", null)).body;
    expect(Object.keys(doc.paths["/api/v1/billing/invoices/{id}"].patch.responses)).toContain("409");
    expect(Object.keys(doc.paths["/api/v1/api-keys/{id}"].delete.responses)).toContain("409");
    expect(Object.keys(doc.paths["/api/v1/auth/login"].post.responses)).toContain("401");
    expect(Object.keys(doc.paths["/api/v1/auth/register"].post.responses)).toContain("401");
  });
});
