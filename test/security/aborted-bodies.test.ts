import type { Server } from "node:http";
import { connect } from "node:net";
import { serve } from "@hono/node-server";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeOneDb } from "../helpers/harness.js";

/**
 * Every operation that takes a body, over a real socket: a client declares 100 bytes, sends 10 and hangs up. The
 * server counts each as `aborted` in /metrics, never as a 500, and goes on serving (issue 23, finding 7: anyone could
 * inflate the error rate the alerts watch).
 */
describeOneDb("aborted request bodies on every operation", (h) => {
  let http: Server;
  let port: number;
  beforeAll(async () => {
    await new Promise<void>((resolve) => {
      http = serve({ fetch: h().app.fetch, hostname: "127.0.0.1", port: 0 }, (info) => {
        port = info.port;
        resolve();
      }) as Server;
    });
  });
  afterAll(async () => {
    await new Promise((resolve) => http?.close(resolve));
  });

  /** Sends the headers and 10 of 100 declared bytes, then closes; resolves once the socket is gone. */
  const abort = (method: string, path: string, key: string | null) =>
    new Promise<void>((resolve) => {
      const socket = connect(port, "127.0.0.1", () => {
        socket.write(
          `${method} ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 100\r\n` +
            `${key ? `x-api-key: ${key}\r\n` : ""}\r\n{"name":"x`,
        );
        setTimeout(() => socket.destroy(), 20);
      });
      socket.on("close", () => resolve());
      socket.on("error", () => resolve());
    });

  it("counts each as aborted, none as a 500, and keeps serving", async () => {
    const doc = (await h().get("/openapi.json", null)).body;
    const operations: [string, string][] = [];
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      if (!path.startsWith("/api/v1/")) continue;
      for (const method of ["post", "put", "patch"]) {
        if (item[method]?.requestBody) operations.push([method.toUpperCase(), path.replace(/\{[^}]+\}/g, "1")]);
      }
    }
    expect(operations.length).toBeGreaterThan(30);
    for (const [method, path] of operations) await abort(method, path, h().operatorKey);
    // The server's handlers may finish after the sockets close: wait until every one has been counted.
    const counted = async () => {
      const text = await (await h().app.request("/metrics")).text();
      let aborted = 0;
      for (const m of text.matchAll(/gpuplane_http_requests_total\{[^}]*status="aborted"[^}]*\} (\d+)/g)) {
        aborted += Number(m[1]);
      }
      return { text, aborted };
    };
    let seen = await counted();
    for (let i = 0; i < 100 && seen.aborted < operations.length; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      seen = await counted();
    }
    expect(seen.aborted).toBe(operations.length);
    expect(seen.text).not.toMatch(/gpuplane_http_requests_total\{[^}]*status="500"/);
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBeLessThan(500);
  });
});
