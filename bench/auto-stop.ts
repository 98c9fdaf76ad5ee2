/**
 * What auto-stop adds to each meter tick: the burn query (every prepaid tenant's running rate and reserve,
 * src/domain/billing/burn.ts) and the warning pass over its rows, at 10k and 100k running instances (10 per tenant)
 * on PostgreSQL, against the metering pass itself in the same run on the same rows. Median of BENCH_REPEATS
 * (default 3) with the range.
 *
 *   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run bench -- auto-stop
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { warnBeforeAutoStop } from "../src/domain/billing/auto-stop.js";
import { mustStop, prepaidBurn } from "../src/domain/billing/burn.js";
import { meterPass } from "../src/domain/billing/meter.js";
import { withFreshDatabase } from "./fresh-database.js";
import { benchContext, seed } from "./metering-seed.js";

const sizes = (process.env.BENCH_SIZES ?? "10000,100000").split(",").map(Number);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x: number) => Math.round(x * 10) / 10;
async function time(fn: () => Promise<unknown>) {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

const results: { instances: number; autoStopMs: number; range: number[]; meterPassMs: number; ratio: number }[] = [];
const loadBefore = loadavg().map(round);
for (const n of sizes) {
  await withFreshDatabase(async (url) => {
    const { database, clock, ctx } = await benchContext(url);
    await seed(ctx, n, clock.now());
    clock.advance(300_000);
    await meterPass(ctx); // warm-up
    const passes: number[] = [];
    const checks: number[] = [];
    for (let i = 0; i < REPEATS; i++) {
      clock.advance(300_000);
      passes.push(await time(() => meterPass(ctx)));
      checks.push(
        await time(async () => {
          const burns = await prepaidBurn(ctx.db, ctx.config.meterIntervalMs / 1000);
          if (burns.length !== Math.ceil(n / 10)) throw new Error(`expected ${n / 10} tenants, got ${burns.length}`);
          await warnBeforeAutoStop(ctx, burns);
          if (burns.some(mustStop)) throw new Error("nothing should be due to stop: every tenant has $1M");
        }),
      );
    }
    const autoStopMs = round(median(checks));
    const meterPassMs = round(median(passes));
    results.push({
      instances: n,
      autoStopMs,
      range: [round(Math.min(...checks)), round(Math.max(...checks))],
      meterPassMs,
      ratio: Math.round((autoStopMs / meterPassMs) * 1000) / 1000,
    });
    console.log(
      `${n} running instances: auto-stop check ${autoStopMs} ms (${results.at(-1)!.range.join("–")}) ` +
        `vs the metering pass ${meterPassMs} ms in the same run: ratio ${results.at(-1)!.ratio}`,
    );
    await database.close();
  });
}
console.log(`load average before ${loadBefore.join(" ")}, after ${loadavg().map(round).join(" ")}`);
mkdirSync("bench/out", { recursive: true });
writeFileSync("bench/out/auto-stop.json", JSON.stringify({ date: new Date().toISOString(), results }, null, 2));
