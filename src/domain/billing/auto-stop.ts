import { and, eq, isNotNull, isNull, sql } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import { instances, tenants } from "../../db/schema/index.js";
import { intArray, queryRows } from "../../db/sql.js";
import { InvalidState } from "../../lib/errors.js";
import { microsToUsd, microsToUsdNumber, toMicros } from "../../lib/money.js";
import { emitEvent } from "../events/emit.js";
import { stopInstance } from "../instances/lifecycle.js";
import { preemptTenantJobs } from "../jobs/lifecycle.js";
import { eachIsolated } from "../loops/isolate.js";
import { prepaidBalances } from "./balance.js";
import { type Burn, mustStop, prepaidBurn, runwaySeconds, shouldWarn } from "./burn.js";
import { type MeterResult, meterPass } from "./meter.js";

/**
 * One tick of the "meter" worker: charge, warn prepaid tenants whose balance fell through a threshold or whose
 * runway is short, stop what prepaid tenants can no longer pay one more meter interval for (burn.ts), and charge
 * again so the runs auto-stop closed are settled in the same tick. Invoiced tenants are charged the same way but
 * never warned or stopped: they run on account.
 */
export async function meterTick(ctx: AppContext) {
  const first = await meterPass(ctx);
  const prepaid = await prepaidBalances(ctx.db, first.balances);
  await warnLowBalances(ctx, prepaid);
  const burns = await prepaidBurn(ctx.db, ctx.config.meterIntervalMs / 1000);
  await warnBeforeAutoStop(ctx, burns);
  const stopped = await autoStop(ctx, burns.filter(mustStop));
  if (!stopped.length) return { ...first, autoStopped: stopped };
  const second = await meterPass(ctx);
  await warnLowBalances(ctx, await prepaidBalances(ctx.db, second.balances));
  return { charged: first.charged + second.charged, closed: first.closed + second.closed, autoStopped: stopped };
}

/**
 * `billing.auto_stop_warning` once when a tenant's runway falls under GPUPLANE_AUTO_STOP_WARN_MINUTES (the console
 * shows the same condition as a banner); re-armed when credit or a lower burn lifts it above again. The claim on
 * tenants.auto_stop_warned_at is conditional, so two replicas' ticks send it once.
 */
export async function warnBeforeAutoStop(ctx: AppContext, burns: Burn[]) {
  const now = ctx.clock.now();
  const window = ctx.config.autoStopWarnSeconds;
  for (const burn of burns) {
    const due = window > 0 && shouldWarn(burn, window);
    if (!due) {
      if (burn.warnedAt) {
        await ctx.db
          .update(tenants)
          .set({ autoStopWarnedAt: null })
          .where(and(eq(tenants.id, burn.tenantId), isNotNull(tenants.autoStopWarnedAt)));
      }
      continue;
    }
    if (burn.warnedAt) continue;
    await ctx.db.transaction(async (tx) => {
      const claimed = await tx
        .update(tenants)
        .set({ autoStopWarnedAt: now })
        .where(and(eq(tenants.id, burn.tenantId), isNull(tenants.autoStopWarnedAt)))
        .returning({ id: tenants.id });
      if (!claimed.length) return;
      await emitEvent(
        tx,
        burn.tenantId,
        "billing.auto_stop_warning",
        {
          tenant_id: burn.tenantId,
          balance: microsToUsd(burn.balance),
          burn_rate_usd_per_hour: microsToUsd(burn.ratePerHour),
          runway_seconds: runwaySeconds(burn),
          message: "running instances and jobs will be stopped when the balance cannot cover the next meter interval",
        },
        now,
      );
    });
  }
}

/**
 * `billing.low_balance` once per configured threshold the balance has fallen below (balance_warnings remembers
 * which; a credit re-arms those it rises above). One event per tenant per pass, naming the lowest threshold crossed.
 */
export async function warnLowBalances(ctx: AppContext, balances: MeterResult["balances"]) {
  const thresholds = ctx.config.lowBalanceThresholdsMicros;
  if (!balances.size || !thresholds.length) return;
  const now = ctx.clock.now();
  const tenantIds = [...balances.keys()];
  const amounts = tenantIds.map((id) => balances.get(id)!);
  await ctx.db.transaction(async (tx) => {
    const crossed = await queryRows<{ tenant_id: number; threshold_micros: unknown }>(
      tx,
      sql`insert into balance_warnings (tenant_id, threshold_micros, created_at)
          select b.tenant_id, t.threshold, ${now.toISOString()}::timestamptz
            from unnest(${intArray(tenantIds)}::int[], ${intArray(amounts)}::bigint[]) as b(tenant_id, balance)
            cross join unnest(${intArray(thresholds)}::bigint[]) as t(threshold)
           where b.balance < t.threshold
          on conflict do nothing
          returning tenant_id, threshold_micros`,
    );
    const lowest = new Map<number, bigint[]>();
    for (const row of crossed) {
      const list = lowest.get(Number(row.tenant_id)) ?? [];
      list.push(toMicros(row.threshold_micros));
      lowest.set(Number(row.tenant_id), list);
    }
    for (const [tenantId, list] of lowest) {
      list.sort((a, b) => (a < b ? -1 : 1));
      const balance = balances.get(tenantId)!;
      await emitEvent(
        tx,
        tenantId,
        "billing.low_balance",
        {
          tenant_id: tenantId,
          balance_usd: microsToUsdNumber(balance),
          balance: microsToUsd(balance),
          threshold_usd: microsToUsd(list[0]),
          thresholds_usd: list.map(microsToUsd),
        },
        now,
      );
    }
  });
}

/**
 * Tenants whose balance cannot cover their running work's next meter interval (burn.ts `mustStop`): their running
 * instances are stopped and their running jobs preempted through the owners' lifecycle functions, with the reason
 * kept on each, then `billing.auto_stopped`. Returns the tenants that had something stopped.
 */
export async function autoStop(ctx: AppContext, due: Burn[]): Promise<number[]> {
  const stoppedTenants: number[] = [];
  // Each tenant on its own: one whose stop fails is logged and counted; the others are still stopped.
  await eachIsolated(
    ctx,
    "auto-stop",
    due,
    (burn) => burn.tenantId,
    async ({ tenantId, balance, ratePerHour }) => {
      const reason =
        `auto-stopped: balance $${microsToUsdNumber(balance).toFixed(2)} could not cover the next ` +
        `${Math.ceil(ctx.config.meterIntervalMs / 1000)} s at $${microsToUsdNumber(ratePerHour).toFixed(2)}/h; add credit to start again`;
      const running = await ctx.db
        .select({ id: instances.id })
        .from(instances)
        .where(and(eq(instances.tenantId, tenantId), eq(instances.status, "running")));
      const stopped: string[] = [];
      for (const { id } of running) {
        try {
          await stopInstance(ctx, { tenantId, instanceId: id, reason, actor: "system" });
          stopped.push(id);
        } catch (error) {
          // Stopped meanwhile by its owner: nothing left to do for it.
          if (!(error instanceof InvalidState)) throw error;
        }
      }
      const jobIds = await preemptTenantJobs(ctx, tenantId, reason);
      if (!stopped.length && !jobIds.length) return;
      stoppedTenants.push(tenantId);
      await emitEvent(
        ctx.db,
        tenantId,
        "billing.auto_stopped",
        {
          tenant_id: tenantId,
          balance_usd: microsToUsdNumber(balance),
          balance: microsToUsd(balance),
          instance_ids: stopped,
          job_ids: jobIds,
          reason,
        },
        ctx.clock.now(),
      );
    },
  );
  return stoppedTenants;
}
