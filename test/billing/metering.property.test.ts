import fc from "fast-check";
import pino from "pino";
import { afterAll, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import type { AppContext } from "../../src/context.js";
import { openDatabase } from "../../src/db/client.js";
import { chargeDue, meterPass } from "../../src/domain/billing/meter.js";
import { divRound } from "../../src/lib/money.js";
import { buildServer } from "../../src/server.js";
import { describeEachDb, OPERATOR_KEY } from "../helpers/harness.js";
import { chargedFor, insertRunningInstance, ledgerChainErrors, startInstanceRow, stopInstanceRow } from "./fixtures.js";

type Step =
  | { kind: "advance"; ms: number }
  | { kind: "toggle"; instance: number }
  | { kind: "meter"; who: "a" | "b" | "both-workers" | "both-passes" }
  | { kind: "crash" }
  | { kind: "restart" };

const specArb = fc.record({
  price: fc.constantFrom(3_600_000n, 2_500_000n, 1_234_567n, 999n, 98_760_000n),
  granularity: fc.constantFrom(1, 60),
  minimum: fc.constantFrom(0n, 0n, 150_000n),
});

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 150_000 }).map((ms) => ({ kind: "advance" as const, ms })) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 3 }).map((instance) => ({ kind: "toggle" as const, instance })) },
  {
    weight: 3,
    arbitrary: fc
      .constantFrom("a", "b", "both-workers", "both-passes")
      .map((who) => ({ kind: "meter" as const, who: who as "a" })),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "crash" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "restart" as const }) },
);

/** What a run of `ms` milliseconds costs: whole units rounded up, priced once, at least the minimum. */
function reference(runs: [number, number][], spec: { price: bigint; granularity: number; minimum: bigint }) {
  let total = 0n;
  for (const [start, end] of runs) {
    if (end === start) continue; // a run of no time at all is free, minimum included
    const g = BigInt(spec.granularity);
    const units = (BigInt(end - start) + g * 1000n - 1n) / (g * 1000n);
    const cost = divRound(units * g * spec.price, 3600n);
    // biome-ignore lint/complexity/useMathMinMax: bigint, which Math.max does not take
    total += cost > spec.minimum ? cost : spec.minimum;
  }
  return total;
}

describeEachDb(
  "metering properties",
  (h) => {
    // The second meter worker: another app on the same PostgreSQL database; on PGlite (one process) the same app.
    let second: Awaited<ReturnType<typeof buildServer>> | undefined;
    async function secondApp(): Promise<AppContext> {
      if (h().kind === "pglite") return h().ctx;
      if (!second) {
        const database = await openDatabase({ databaseUrl: h().dbUrl!, poolSize: 4 });
        const config = loadConfig({ GPUPLANE_ADMIN_KEY: OPERATOR_KEY, GPUPLANE_WORKERS: "off", LOG_LEVEL: "silent" });
        second = await buildServer(config, {
          database,
          clock: h().clock,
          log: pino({ level: "silent" }),
          workers: false,
        });
      }
      return second.ctx;
    }
    async function restartSecond() {
      if (!second) return;
      const old = second;
      second = undefined;
      await old.close();
      await old.ctx.database.close().catch(() => {});
    }
    afterAll(restartSecond);

    it("charges exactly the reference over random start/stop/crash/restart schedules with two meters", async () => {
      const { tenantId } = await h().signup();
      await h().post(`/api/v1/tenants/${tenantId}/credits`, { amount_usd: "1000000" });
      await fc.assert(
        fc.asyncProperty(
          fc.array(specArb, { minLength: 1, maxLength: 4 }),
          fc.array(stepArb, { minLength: 1, maxLength: 30 }),
          async (specs, steps) => {
            const ids: string[] = [];
            const runs: [number, number][][] = [];
            const openSince: (number | null)[] = [];
            for (const spec of specs) {
              ids.push(
                await insertRunningInstance(h(), {
                  tenantId,
                  pricePerHourMicros: spec.price,
                  granularitySeconds: spec.granularity,
                  minimumChargeMicros: spec.minimum,
                }),
              );
              runs.push([]);
              openSince.push(h().clock.now().getTime());
            }
            let b = await secondApp();
            for (const step of steps) {
              const now = h().clock.now().getTime();
              if (step.kind === "advance") h().clock.advance(step.ms);
              else if (step.kind === "toggle") {
                const i = step.instance % ids.length;
                if (openSince[i] !== null) {
                  await stopInstanceRow(h(), ids[i]);
                  runs[i].push([openSince[i]!, now]);
                  openSince[i] = null;
                } else {
                  await startInstanceRow(h(), ids[i]);
                  openSince[i] = now;
                }
              } else if (step.kind === "meter") {
                if (step.who === "a") await h().runWorker("meter");
                else if (step.who === "b") await meterPass(b);
                else if (step.who === "both-workers") await Promise.all([h().runWorker("meter"), meterPass(b)]);
                else await Promise.all([meterPass(h().ctx), meterPass(b)]);
              } else if (step.kind === "crash") {
                await h()
                  .ctx.db.transaction(async (tx) => {
                    await chargeDue(tx, h().ctx.clock.now());
                    throw new Error("crash before commit");
                  })
                  .catch(() => {});
              } else {
                await restartSecond();
                b = await secondApp();
              }
            }
            const end = h().clock.now().getTime();
            for (let i = 0; i < ids.length; i++) {
              if (openSince[i] === null) continue;
              await stopInstanceRow(h(), ids[i]);
              runs[i].push([openSince[i]!, end]);
            }
            await Promise.all([meterPass(h().ctx), meterPass(await secondApp())]);
            for (let i = 0; i < ids.length; i++) {
              expect(await chargedFor(h(), "instance_id", ids[i])).toBe(reference(runs[i], specs[i]));
            }
          },
        ),
        { numRuns: h().kind === "pglite" ? 25 : 20 },
      );
      const { errors, sum } = await ledgerChainErrors(h(), tenantId);
      expect(errors).toEqual([]);
      const balance = await h().get(`/api/v1/billing/balance?tenant_id=${tenantId}`);
      expect(balance.body.data.balance_micros).toBe(sum.toString());
    }, 240_000);
  },
  { manualClock: true },
);
