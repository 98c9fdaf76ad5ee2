import { eq, sql } from "drizzle-orm";
import type { Config } from "../../config.js";
import type { AppContext } from "../../context.js";
import type { Executor } from "../../db/client.js";
import { tenants } from "../../db/schema/index.js";
import { intArray, queryRows } from "../../db/sql.js";
import { ApiError, notFound } from "../../lib/errors.js";
import { microsToUsd } from "../../lib/money.js";
import type { BillingMode } from "../identity/tenants.js";
import { currentBalance } from "./ledger.js";

/** How the tenant pays (identity/tenants.ts `billingModes`): only a prepaid tenant's balance gates its work. */
export async function billingModeOf(executor: Executor, tenantId: number): Promise<BillingMode> {
  const [row] = await executor.select({ mode: tenants.billingMode }).from(tenants).where(eq(tenants.id, tenantId));
  if (!row) throw notFound("tenant");
  return row.mode as BillingMode;
}

/**
 * What a prepaid tenant needs to deploy or start an instance of `pricePerHourMicros`: the price of the first
 * stretch (GPUPLANE_FIRST_STRETCH_MINUTES, default an hour) or the configured floor (GPUPLANE_MIN_BALANCE_USD),
 * whichever is more. Priced per type so the sign-up credit reaches the cheap types instead of a fixed $20.
 */
export function minimumToDeploy(config: Config, pricePerHourMicros: bigint): bigint {
  const stretch = ceilDiv(pricePerHourMicros * BigInt(config.firstStretchSeconds), 3600n);
  // biome-ignore lint/complexity/useMathMinMax: bigint, which Math.max does not take
  return stretch > config.minBalanceMicros ? stretch : config.minBalanceMicros;
}

const ceilDiv = (a: bigint, b: bigint) => (a + b - 1n) / b;

/** 402 INSUFFICIENT_CREDITS below minimumToDeploy. Prepaid tenants only: an invoiced tenant runs on account. */
export async function assertMinimumBalance(
  ctx: AppContext,
  tx: Executor,
  tenantId: number,
  pricePerHourMicros: bigint,
): Promise<void> {
  if ((await billingModeOf(tx, tenantId)) !== "prepaid") return;
  const balance = await currentBalance(tx, tenantId);
  const minimum = minimumToDeploy(ctx.config, pricePerHourMicros);
  if (balance < minimum) {
    const stretch = ctx.config.firstStretchSeconds;
    const why = minimum > ctx.config.minBalanceMicros ? ` (the first ${stretch / 60} minutes of this type)` : "";
    throw new ApiError(
      "INSUFFICIENT_CREDITS",
      `balance $${microsToUsd(balance)} is below the $${microsToUsd(minimum)} needed to deploy${why}: ` +
        (ctx.config.stripeSecretKey
          ? "add credits (POST /api/v1/billing/topups)"
          : "ask the operator to grant credit (payments are not configured on this server)"),
      { balance_usd: microsToUsd(balance), minimum_usd: microsToUsd(minimum) },
    );
  }
}

/** The balances of prepaid tenants among `balances` (tenant id → balance): those that warnings and auto-stop watch. */
export async function prepaidBalances(executor: Executor, balances: Map<number, bigint>): Promise<Map<number, bigint>> {
  if (!balances.size) return balances;
  const rows = await queryRows<{ id: number }>(
    executor,
    sql`select id from tenants where id = any(${intArray(balances.keys())}::int[]) and billing_mode = 'prepaid'`,
  );
  return new Map(rows.map(({ id }) => [Number(id), balances.get(Number(id))!]));
}
