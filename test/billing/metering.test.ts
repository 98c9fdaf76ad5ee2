import { expect, it } from "vitest";
import { chargeDue, meterPass } from "../../src/domain/billing/meter.js";
import { describeEachDb } from "../helpers/harness.js";
import {
  chargedFor,
  insertRunningInstance,
  insertVolume,
  ledgerChainErrors,
  startInstanceRow,
  stopInstanceRow,
} from "./fixtures.js";

const MINUTE = 60_000;

describeEachDb(
  "metering rules",
  (h) => {
    async function richTenant() {
      const { tenantId, key } = await h().signup();
      await h().post(`/api/v1/tenants/${tenantId}/credits`, { amount_usd: "1000" });
      return { tenantId, key };
    }

    it("charges per second at the instance's price, exactly, across passes", async () => {
      const { tenantId } = await richTenant();
      // $2.50/h = 694.444… µ$/s: per-pass rounding would drift; cumulative pricing does not.
      const id = await insertRunningInstance(h(), { tenantId, pricePerHourMicros: 2_500_000n });
      for (let i = 0; i < 7; i++) {
        h().clock.advance(1_300);
        await meterPass(h().ctx);
      }
      await stopInstanceRow(h(), id);
      await meterPass(h().ctx);
      // 9.1 s → 10 billed seconds → round(10 × 2.5e6 / 3600) = 6944
      expect(await chargedFor(h(), "instance_id", id)).toBe(6944n);
      expect((await ledgerChainErrors(h(), tenantId)).errors).toEqual([]);
    });

    it("rounds a per-minute run up to whole minutes, however the passes fall", async () => {
      const { tenantId } = await richTenant();
      const id = await insertRunningInstance(h(), {
        tenantId,
        pricePerHourMicros: 3_000_000n,
        granularitySeconds: 60,
      });
      h().clock.advance(45_000);
      await meterPass(h().ctx); // 45 s: no whole minute yet
      expect(await chargedFor(h(), "instance_id", id)).toBe(0n);
      h().clock.advance(30_000);
      await meterPass(h().ctx); // 75 s: one whole minute
      expect(await chargedFor(h(), "instance_id", id)).toBe(50_000n);
      h().clock.advance(1_000);
      await stopInstanceRow(h(), id);
      await meterPass(h().ctx); // closed at 76 s → 2 minutes
      expect(await chargedFor(h(), "instance_id", id)).toBe(100_000n);
      h().clock.advance(10 * MINUTE);
      await meterPass(h().ctx); // stopped: no more GPU time
      expect(await chargedFor(h(), "instance_id", id)).toBe(100_000n);
      // A new run rounds on its own.
      await startInstanceRow(h(), id);
      h().clock.advance(1_000);
      await stopInstanceRow(h(), id);
      await meterPass(h().ctx);
      expect(await chargedFor(h(), "instance_id", id)).toBe(150_000n);
    });

    it("charges the type's minimum for a short run", async () => {
      const { tenantId } = await richTenant();
      const id = await insertRunningInstance(h(), {
        tenantId,
        pricePerHourMicros: 3_600_000n,
        minimumChargeMicros: 250_000n,
      });
      h().clock.advance(30_000);
      await meterPass(h().ctx); // 30 000 µ$ so far
      h().clock.advance(30_000);
      await stopInstanceRow(h(), id);
      await meterPass(h().ctx); // 60 s = 60 000 µ$ < minimum → 250 000 in all
      expect(await chargedFor(h(), "instance_id", id)).toBe(250_000n);
      // A long run is above the minimum and pays its time.
      await startInstanceRow(h(), id);
      h().clock.advance(600_000);
      await stopInstanceRow(h(), id);
      await meterPass(h().ctx);
      expect(await chargedFor(h(), "instance_id", id)).toBe(250_000n + 600_000n);
    });

    it("keeps charging a volume for storage, prorated per second on a 30-day month", async () => {
      const { tenantId } = await richTenant();
      const id = await insertVolume(h(), tenantId, 100, 100_000n); // 100 GB × $0.10 = $10 / month
      h().clock.advance(3 * 3600_000);
      await meterPass(h().ctx);
      // 10 800 s × 10 000 000 / 2 592 000 = 41 666.67 → 41 667
      expect(await chargedFor(h(), "volume_id", id)).toBe(41_667n);
    });

    it("never charges an interval twice when a pass is repeated, rolled back, or raced", async () => {
      const { tenantId } = await richTenant();
      const id = await insertRunningInstance(h(), { tenantId, pricePerHourMicros: 3_600_000n });
      h().clock.advance(10_000);
      // A crash mid-pass: nothing of it survives.
      await h()
        .ctx.db.transaction(async (tx) => {
          await chargeDue(tx, h().ctx.clock.now());
          throw new Error("crash");
        })
        .catch(() => {});
      expect(await chargedFor(h(), "instance_id", id)).toBe(0n);
      await Promise.all([meterPass(h().ctx), meterPass(h().ctx), meterPass(h().ctx)]);
      expect(await chargedFor(h(), "instance_id", id)).toBe(10_000n);
      const { errors, sum } = await ledgerChainErrors(h(), tenantId);
      expect(errors).toEqual([]);
      const balance = await h().get(`/api/v1/billing/balance?tenant_id=${tenantId}`);
      expect(balance.body.data.balance_micros).toBe(sum.toString());
    });
  },
  { manualClock: true },
);
