import { mkdtempSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ApiClient, Unreachable } from "../src/client.js";
import { MetricsOutbox } from "../src/outbox.js";
import { StateDir } from "../src/state.js";

/** A metrics endpoint that is down (503) until told otherwise, and records what it accepted by Idempotency-Key. */
const accepted = new Map<string, number>();
let down = true;
const server = createServer((req, res) => {
  let body = "";
  req.on("data", (chunk) => {
    body += chunk;
  });
  req.on("end", () => {
    if (down) {
      res.writeHead(503, { "content-type": "application/json" }).end('{"code":"UNAVAILABLE","error":"down"}');
      return;
    }
    const key = String(req.headers["idempotency-key"]);
    accepted.set(key, (accepted.get(key) ?? 0) + JSON.parse(body).metrics.length);
    res.writeHead(200, { "content-type": "application/json" }).end('{"code":"OK","data":{"accepted":1}}');
  });
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const sample = (gpu: number) => ({
  gpu_id: gpu,
  utilization_pct: 50,
  memory_used_mb: 1,
  memory_total_mb: 81559,
  temperature_c: 40,
  power_draw_w: 70,
  ts: new Date().toISOString(),
});

describe("metrics outbox", () => {
  it("keeps batches in memory and on disk while the server is down, sends each once when it is back", async () => {
    const dir = mkdtempSync(join(tmpdir(), "outbox-"));
    const log: string[] = [];
    const client = new ApiClient(url, "k");
    const first = new MetricsOutbox(new StateDir(dir), { maxBatches: 3, log: (m) => log.push(m) });
    for (let i = 1; i <= 4; i++) {
      first.add([sample(i)]);
      await expect(first.flush(client)).rejects.toBeInstanceOf(Unreachable);
    }
    expect(first.size).toBe(3); // bounded: the oldest was dropped
    expect(first.dropped).toBe(1);

    // The agent restarts while the server is still down: the batches come back from disk.
    const second = new MetricsOutbox(new StateDir(dir), { maxBatches: 3, log: (m) => log.push(m) });
    expect(second.size).toBe(3);
    down = false;
    await second.flush(client);
    expect(second.size).toBe(0);
    expect([...accepted.values()]).toEqual([1, 1, 1]);
    expect([...accepted.keys()].every((k) => k.startsWith("metrics-"))).toBe(true);
    expect(new MetricsOutbox(new StateDir(dir), { maxBatches: 3, log: () => {} }).size).toBe(0);
  });
});
