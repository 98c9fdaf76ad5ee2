import { eq, sql } from "drizzle-orm";
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
 * Deploying or starting needs at least the minimum balance (default $20): 402 INSUFFICIENT_CREDITS below it.
 * Prepaid tenants only: an invoiced tenant runs on account.
 */
export async function assertMinimumBalance(ctx: AppContext, tx: Executor, tenantId: number): Promise<void> {
  if ((await billingModeOf(tx, tenantId)) !== "prepaid") return;
  const balance = await currentBalance(tx, tenantId);
  if (balance < ctx.config.minBalanceMicros) {
    throw new ApiError(
      "INSUFFICIENT_CREDITS",
      `balance $${microsToUsd(balance)} is below the $${microsToUsd(ctx.config.minBalanceMicros)} minimum required to deploy`,
      { balance_usd: microsToUsd(balance), minimum_usd: microsToUsd(ctx.config.minBalanceMicros) },
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
