import { and, eq } from "drizzle-orm";
import { expect, it } from "vitest";
import { events, instances } from "../../src/db/schema/index.js";
import { assertMinimumBalance } from "../../src/domain/billing/balance.js";
import { toMicros } from "../../src/lib/money.js";
import { describeEachDb } from "../helpers/harness.js";
import { customer, syncStatus } from "../instances/fixtures.js";
import { ledgerChainErrors } from "./fixtures.js";

const HOUR = 3600_000;

describeEachDb(
  "billing auto-stop and minimum balance",
  (h) => {
    async function eventsOf(tenantId: number, type: string) {
      const rows = await h()
        .ctx.db.select()
        .from(events)
        .where(and(eq(events.tenantId, tenantId), eq(events.type, type)));
      return rows.map((r) => r.data as any);
    }

    it("warns once per threshold, stops the instances at zero, and refuses to start again (402)", async () => {
      // $5 sign-up credit + $16 = $21: enough to deploy, not enough for long.
      const { key, sshKeyId, tenantId } = await customer(h(), "16");
      const created = await h().post(
        "/api/v1/instances",
        { name: "run", planId: "GPU.H100.1x", templateSlug: "pytorch-cuda", sshKeyId },
        key,
      );
      expect(created.status).toBe(201);
      const id = created.body.data.id as string;
      await syncStatus(h());
      const [row] = await h().ctx.db.select().from(instances).where(eq(instances.id, id));
      expect(row.status).toBe("running");
      const pricePerHour = toMicros(row.pricePerHourMicros);

      // Down to just under $10: one warning (threshold $10), repeated passes do not repeat it.
      const toTen = Number(((21_000_000n - 9_500_000n) * BigInt(HOUR)) / pricePerHour);
      h().clock.advance(toTen);
      await h().runWorker("meter");
      await h().runWorker("meter");
      const warnings = await eventsOf(tenantId, "billing.low_balance");
      expect(warnings).toHaveLength(1);
      expect(warnings[0].threshold_usd).toBe("10.000000");

      // Past zero: the meter stops the instance through the lifecycle and settles the closed run.
      h().clock.advance(Number((10_000_000n * BigInt(HOUR)) / pricePerHour) + 60_000);
      await h().runWorker("meter");
      const [stopped] = await h().ctx.db.select().from(instances).where(eq(instances.id, id));
      expect(stopped.status).toBe("stopped");
      expect(stopped.runningSince).toBeNull(); // the run is closed and charged
      const autoStopped = await eventsOf(tenantId, "billing.auto_stopped");
      expect(autoStopped).toHaveLength(1);
      expect(autoStopped[0].instance_ids).toEqual([id]);
      // One event per pass names the lowest threshold crossed and lists every threshold it crossed.
      const crossed = (await eventsOf(tenantId, "billing.low_balance")).flatMap((w) => w.thresholds_usd);
      expect(crossed.sort()).toEqual(["1.000000", "10.000000", "5.000000"]);

      // Stopped: no more GPU time is charged.
      const balance = await h().get("/api/v1/billing/balance", key);
      expect(balance.body.data.balance_usd).toBeLessThanOrEqual(0);
      h().clock.advance(HOUR);
      await h().runWorker("meter");
      expect((await h().get("/api/v1/billing/balance", key)).body.data.balance).toBe(balance.body.data.balance);
      const { errors, sum } = await ledgerChainErrors(h(), tenantId);
      expect(errors).toEqual([]);
      expect(balance.body.data.balance_micros).toBe(sum.toString());

      // Starting again needs the minimum balance.
      const start = await h().post(`/api/v1/instances/${id}/start`, undefined, key);
      expect(start.status).toBe(402);
      expect(start.body.code).toBe("INSUFFICIENT_CREDITS");

      // A credit re-arms the warnings it rises above.
      await h().post(`/api/v1/tenants/${tenantId}/credits`, { amount_usd: "100" });
      expect((await h().post(`/api/v1/instances/${id}/start`, undefined, key)).status).toBe(200);
    });

    it("assertMinimumBalance refuses below the configured minimum with INSUFFICIENT_CREDITS", async () => {
      const { tenantId } = await h().signup();
      await expect(assertMinimumBalance(h().ctx, h().ctx.db, tenantId)).rejects.toMatchObject({
        code: "INSUFFICIENT_CREDITS",
        status: 402,
      });
      await h().post(`/api/v1/tenants/${tenantId}/credits`, { amount_usd: "15" });
      await expect(assertMinimumBalance(h().ctx, h().ctx.db, tenantId)).resolves.toBeUndefined();
    });
  },
  { manualClock: true },
);
