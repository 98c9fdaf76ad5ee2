/**
 * What the SDK and the CLI cost their callers, each against a same-run baseline:
 * 1. per call: `unwrap(api.GET(...))` (openapi-fetch, auth header, retry wrapper, error middleware, envelope) against
 *    a plain `fetch` + `res.json()` of the same URL, both sequential against one bare node:http server answering a
 *    fixed list envelope (so the server's work is the same and small), interleaved in rounds;
 * 2. start-up: `gpuplane --version` (node + tsx + the CLI's modules) against `node -e 0`.
 *
 *   npm run bench -- sdk          (BENCH_CALLS=2000 BENCH_STARTS=5)
 */
import { spawnSync } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { cpus, loadavg } from "node:os";
import { createGpuplane, unwrap } from "../packages/sdk/src/index.js";

const calls = Number(process.env.BENCH_CALLS ?? 2000);
const starts = Number(process.env.BENCH_STARTS ?? 5);
const rounds = 4;

const body = JSON.stringify({
  code: "OK",
  data: [{ id: "key_0", label: "default", prefix: "gpk_0000", scopes: ["all"], permissions: ["read"] }],
  meta: { total: 1, cursor: null, has_more: false },
});
const server = createServer((_req, res) => {
  res.writeHead(200, { "content-type": "application/json" });
  res.end(body);
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const url = `${base}/api/v1/api-keys`;
const api = createGpuplane({ baseUrl: base, apiKey: "gpk_bench" });

async function time(run: () => Promise<unknown>, n: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < n; i++) await run();
  return (performance.now() - started) / n;
}

const plain = () => fetch(url, { headers: { "x-api-key": "gpk_bench" } }).then((r) => r.json());
const sdk = () => unwrap(api.GET("/api/v1/api-keys"));
await time(plain, 200);
await time(sdk, 200);
const perCall = { plain: [] as number[], sdk: [] as number[] };
for (let r = 0; r < rounds; r++) {
  perCall.plain.push(await time(plain, calls / rounds));
  perCall.sdk.push(await time(sdk, calls / rounds));
}
server.close();
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

function startMs(args: string[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < starts; i++) {
    const started = performance.now();
    const result = spawnSync(process.execPath, args, { stdio: "ignore" });
    if (result.status !== 0) throw new Error(`${args.join(" ")} exited ${result.status}`);
    out.push(performance.now() - started);
  }
  return out.sort((a, b) => a - b);
}
const median = (xs: number[]) => xs[Math.floor(xs.length / 2)];
const nodeStart = median(startMs(["-e", "0"]));
const cliStart = median(startMs(["packages/cli/bin/gpuplane.mjs", "--version"]));

console.log(`machine: ${cpus().length} CPUs, load ${loadavg()[0].toFixed(2)}`);
console.log(
  `per call (${calls} sequential): plain fetch ${(mean(perCall.plain) * 1000).toFixed(0)} µs, ` +
    `SDK ${(mean(perCall.sdk) * 1000).toFixed(0)} µs, ratio ${(mean(perCall.sdk) / mean(perCall.plain)).toFixed(2)}×`,
);
console.log(
  `start-up (median of ${starts}): node -e 0 ${nodeStart.toFixed(0)} ms, gpuplane --version ${cliStart.toFixed(0)} ms, ` +
    `ratio ${(cliStart / nodeStart).toFixed(1)}×`,
);
