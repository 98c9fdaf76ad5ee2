import type { AppContext } from "../../context.js";
import type { Executor } from "../../db/client.js";
import { ApiError } from "../../lib/errors.js";
import { microsToUsd } from "../../lib/money.js";
import { currentBalance } from "./ledger.js";

/** Deploying or starting needs at least the minimum balance (default $20): 402 INSUFFICIENT_CREDITS below it. */
export async function assertMinimumBalance(ctx: AppContext, tx: Executor, tenantId: number): Promise<void> {
  const balance = await currentBalance(tx, tenantId);
  if (balance < ctx.config.minBalanceMicros) {
    throw new ApiError(
      "INSUFFICIENT_CREDITS",
      `balance $${microsToUsd(balance)} is below the $${microsToUsd(ctx.config.minBalanceMicros)} minimum required to deploy`,
      { balance_usd: microsToUsd(balance), minimum_usd: microsToUsd(ctx.config.minBalanceMicros) },
    );
  }
}
