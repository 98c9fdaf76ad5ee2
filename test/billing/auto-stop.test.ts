import { and, eq } from "drizzle-orm";
import { expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { events, instances } from "../../src/db/schema/index.js";
import { assertMinimumBalance, minimumToDeploy } from "../../src/domain/billing/balance.js";
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
      // The clock jumped hours past zero between two passes here, so the balance is below zero; with a pass every
      // interval it never is (auto-stop.property.test.ts).
      expect(balance.body.data.balance_usd).toBeLessThan(0);
      expect(stopped.statusReason).toMatch(/^auto-stopped: balance \$-?\d+\.\d\d could not cover the next 15 s/);
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

    it("needs the price of the chosen type's first hour, not a fixed $20: the $5 sign-up launches a cheap GPU", async () => {
      const { tenantId } = await h().signup(); // $5 sign-up credit
      const h100 = 2_490_000n; // $2.49/h: an hour costs less than $5
      const eightH100 = 8n * h100; // $19.92/h
      await expect(assertMinimumBalance(h().ctx, h().ctx.db, tenantId, h100)).resolves.toBeUndefined();
      await expect(assertMinimumBalance(h().ctx, h().ctx.db, tenantId, eightH100)).rejects.toMatchObject({
        code: "INSUFFICIENT_CREDITS",
        status: 402,
        message: expect.stringContaining("$19.920000 needed to deploy (the first 60 minutes of this type)"),
      });
      expect(minimumToDeploy(h().ctx.config, 1_000_001n)).toBe(1_000_001n);
      // Seed 001's settings: a $20 floor and no first stretch.
      const seed001 = loadConfig({ GPUPLANE_MIN_BALANCE_USD: "20", GPUPLANE_FIRST_STRETCH_MINUTES: "0" });
      expect(minimumToDeploy(seed001, h100)).toBe(20_000_000n);
      expect(minimumToDeploy(seed001, 30_000_000n)).toBe(20_000_000n);
      // Both: the larger of the floor and the stretch.
      const both = loadConfig({ GPUPLANE_MIN_BALANCE_USD: "1", GPUPLANE_FIRST_STRETCH_MINUTES: "30" });
      expect(minimumToDeploy(both, h100)).toBe(1_245_000n);
      expect(minimumToDeploy(both, 1_000_000n)).toBe(1_000_000n);
    });
  },
  { manualClock: true },
);
