// The auto-stop bound, with the real meter and lifecycle on a real database: whatever the price, the billing
// granularity, the minimum charge and the meter interval, a prepaid tenant whose running instances drain its balance
// is warned first and stopped so that its balance ends at or above zero minus one billing unit.

import { and, eq, inArray } from "drizzle-orm";
import fc from "fast-check";
import { expect, it } from "vitest";
import { events, instances } from "../../src/db/schema/index.js";
import { appendLedgerEntry, currentBalance } from "../../src/domain/billing/ledger.js";
import { describeEachDb } from "../helpers/harness.js";
import { customer, syncStatus } from "../instances/fixtures.js";

const caseArb = fc.record({
  /** $0.05 to $80 per hour, odd amounts included. */
  pricePerHour: fc.bigInt({ min: 50_000n, max: 80_000_000n }),
  granularity: fc.constantFrom(1, 1, 60, 60, 300, 3600),
  /** 0, or a unit's price (the catalog's per-minute types), or more. */
  minimumUnits: fc.constantFrom(0n, 1n, 3n),
  intervalSeconds: fc.constantFrom(5, 15, 30, 60, 120),
  instances: fc.integer({ min: 1, max: 2 }),
  /** The balance to start from, as a number of meter intervals the instances can pay (and a remainder). */
  intervals: fc.integer({ min: 0, max: 40 }),
  remainder: fc.double({ min: 0, max: 1, noNaN: true }),
});

describeEachDb(
  "auto-stop bound (property)",
  (h) => {
    it("ends every drained balance at or above zero minus one billing unit, after a warning", async () => {
      await fc.assert(
        fc.asyncProperty(caseArb, async (c) => {
          const { key, sshKeyId, tenantId } = await customer(h(), "100");
          const ids: string[] = [];
          for (let i = 0; i < c.instances; i++) {
            const res = await h().post(
              "/api/v1/instances",
              { name: `p${i}`, planId: "GPU.H100.1x", templateSlug: "pytorch-cuda", sshKeyId },
              key,
            );
            expect(res.status).toBe(201);
            ids.push(res.body.data.id);
          }
          await syncStatus(h());
          const unit = (c.pricePerHour * BigInt(c.granularity) + 3599n) / 3600n;
          // The instances are of a type priced as drawn (what the catalog would have copied onto them).
          await h()
            .ctx.db.update(instances)
            .set({
              pricePerHourMicros: c.pricePerHour,
              billingGranularitySeconds: c.granularity,
              minimumChargeMicros: unit * c.minimumUnits,
            })
            .where(inArray(instances.id, ids));
          h().ctx.config.meterIntervalMs = c.intervalSeconds * 1000;
          // Settle what ran so far, then set the balance to the drawn amount (an operator adjustment).
          await h().runWorker("meter");
          const perInterval = (BigInt(c.instances) * c.pricePerHour * BigInt(c.intervalSeconds)) / 3600n;
          const target = perInterval * BigInt(c.intervals) + BigInt(Math.floor(Number(perInterval) * c.remainder)) + 1n;
          await h().ctx.db.transaction(async (tx) =>
            appendLedgerEntry(tx, {
              tenantId,
              kind: "adjustment",
              amountMicros: target - (await currentBalance(tx, tenantId)),
              description: "property test: starting balance",
            }),
          );

          // The balance only falls through the meter, which checks it: a pass now, as after any charge.
          await h().runWorker("meter");
          // A meter pass every interval until auto-stop has stopped both instances.
          for (let tick = 0; tick < 200; tick++) {
            h().clock.advance(c.intervalSeconds * 1000);
            await h().runWorker("meter");
            const rows = await h()
              .ctx.db.select({ status: instances.status })
              .from(instances)
              .where(inArray(instances.id, ids));
            if (rows.every((r) => r.status !== "running")) break;
          }
          const rows = await h().ctx.db.select().from(instances).where(inArray(instances.id, ids));
          expect(rows.map((r) => r.status)).toEqual(ids.map(() => "stopped"));
          for (const row of rows) expect(row.statusReason).toMatch(/^auto-stopped: /);
          // Settled: one more pass charges nothing.
          const final = await currentBalance(h().ctx.db, tenantId);
          h().clock.advance(c.intervalSeconds * 1000);
          await h().runWorker("meter");
          expect(await currentBalance(h().ctx.db, tenantId)).toBe(final);

          expect(final).toBeGreaterThanOrEqual(-unit);

          // Warned before (or in the pass of) the stop.
          const sent = await h()
            .ctx.db.select({ id: events.id, type: events.type })
            .from(events)
            .where(
              and(
                eq(events.tenantId, tenantId),
                inArray(events.type, ["billing.auto_stop_warning", "billing.auto_stopped"]),
              ),
            )
            .orderBy(events.id);
          // One stop, after at least one warning (setting the balance above may have re-armed an earlier one).
          const types = sent.map((e) => e.type);
          expect(types.at(-1)).toBe("billing.auto_stopped");
          expect(types.slice(0, -1).length).toBeGreaterThan(0);
          expect(new Set(types.slice(0, -1))).toEqual(new Set(["billing.auto_stop_warning"]));
        }),
        { numRuns: 12 },
      );
    }, 240_000);
  },
  { manualClock: true },
);
