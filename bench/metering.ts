/**
 * One metering pass over 1k, 10k and 100k running instances on PostgreSQL, against baselines in the same run:
 * a bare `UPDATE instances SET metered_until = …` over the same rows, and that UPDATE plus a bare INSERT of as many
 * ledger rows (together, the least a pass must write). Median of BENCH_REPEATS passes (default 3) with the range;
 * writes bench/out/metering.json. Target: < 2 s at 100k, per-instance cost flat.
 *
 *   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run bench -- metering
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { meterPass } from "../src/domain/billing/meter.js";
import { withFreshDatabase } from "./fresh-database.js";
import { benchContext, seed } from "./metering-seed.js";

const sizes = (process.env.BENCH_SIZES ?? "1000,10000,100000").split(",").map(Number);
/** Measured passes per size (each charges the next 5 minutes); the figures are their median, with the range. */
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const TARGET_MS = 2000;

async function time(fn: () => Promise<unknown>) {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x: number) => Math.round(x * 10) / 10;
const loadBefore = loadavg().map(round);
const results: {
  instances: number;
  passMs: number;
  passRangeMs: [number, number];
  perInstanceUs: number;
  baselineMs: number;
  ratio: number;
  updateAndInsertMs: number;
  ratioToUpdateAndInsert: number;
}[] = [];
for (const n of sizes) {
  await withFreshDatabase(async (url) => {
    const { database, clock, ctx } = await benchContext(url);
    await seed(ctx, n, clock.now());
    // Warm-up pass (charges the first 5 minutes), then each measured pass charges the next 5 minutes.
    clock.advance(300_000);
    await meterPass(ctx);
    const passes: number[] = [];
    for (let i = 0; i < REPEATS; i++) {
      clock.advance(300_000);
      passes.push(
        await time(async () => {
          const result = await meterPass(ctx);
          if (result.charged !== n) throw new Error(`expected ${n} charges, got ${result.charged}`);
        }),
      );
    }
    // The baseline as often, on the same (as bloated) table: the least a pass must write.
    const baselines: number[] = [];
    for (let i = 0; i < REPEATS; i++) {
      const until = new Date(clock.now().getTime() + (i + 1) * 300_000);
      baselines.push(
        await time(() =>
          database.pool!.query("update instances set metered_until = $1 where running_since is not null", [until]),
        ),
      );
    }
    // A second, fuller floor: that UPDATE plus a bare INSERT of as many ledger rows (same indexes, no computing, no
    // balance chain, no locks), so the part of the pass that is neither is visible.
    const inserts: number[] = [];
    for (let i = 0; i < REPEATS; i++) {
      inserts.push(
        await time(() =>
          database.pool!.query(
            `insert into ledger_entries (tenant_id, kind, amount_micros, balance_after_micros, description, reference,
               instance_id, period_start, period_end, quantity_seconds, created_at)
             select tenant_id, 'usage', -1, 0, 'Instance ' || id || ': 300 s',
                    'bench-floor:' || id || ':' || ${i}, id, $1, $1, 300, $1
               from instances where running_since is not null`,
            [clock.now()],
          ),
        ),
      );
    }
    const passMs = median(passes);
    const baselineMs = median(baselines);
    const floorMs = baselineMs + median(inserts);
    results.push({
      instances: n,
      passMs: round(passMs),
      passRangeMs: [round(Math.min(...passes)), round(Math.max(...passes))],
      perInstanceUs: round((passMs * 1000) / n),
      baselineMs: round(baselineMs),
      ratio: Math.round((passMs / baselineMs) * 100) / 100,
      updateAndInsertMs: round(floorMs),
      ratioToUpdateAndInsert: Math.round((passMs / floorMs) * 100) / 100,
    });
    console.log(line(results[results.length - 1]));
    await database.close();
  });
}

function line(r: (typeof results)[number]) {
  return `${String(r.instances).padStart(7)} instances | pass ${r.passMs.toFixed(0).padStart(6)} ms (${r.passRangeMs[0].toFixed(0)}–${r.passRangeMs[1].toFixed(0)}) | ${r.perInstanceUs.toFixed(2).padStart(7)} µs/instance | baseline UPDATE ${r.baselineMs.toFixed(0).padStart(5)} ms | ratio ${r.ratio.toFixed(2)}x | UPDATE + bare ledger INSERT ${r.updateAndInsertMs.toFixed(0)} ms, ratio ${r.ratioToUpdateAndInsert.toFixed(2)}x`;
}

const loadAfter = loadavg().map(round);
const largest = results[results.length - 1];
const verdict =
  largest.instances >= 100_000
    ? `${largest.instances} instances: ${largest.passMs.toFixed(0)} ms, target < ${TARGET_MS} ms ${largest.passMs < TARGET_MS ? "met" : "NOT met"}`
    : `largest size ${largest.instances}: the 100k target was not measured`;
console.log(
  `\nmetering pass (PostgreSQL), median of ${REPEATS} passes per size; load average ${loadBefore.join(" ")} → ${loadAfter.join(" ")} on ${cpus().length} CPUs:`,
);
for (const r of results) console.log(line(r));
console.log(verdict);
mkdirSync("bench/out", { recursive: true });
writeFileSync(
  "bench/out/metering.json",
  `${JSON.stringify({ repeats: REPEATS, cpus: cpus().length, loadBefore, loadAfter, targetMs: TARGET_MS, verdict, results }, null, 2)}\n`,
);
console.log("written to bench/out/metering.json");
