import { and, eq, lt } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import type { Executor } from "../../db/client.js";
import { balanceWarnings } from "../../db/schema/index.js";
import { badRequest } from "../../lib/errors.js";
import { microsToUsd, microsToUsdNumber } from "../../lib/money.js";
import { type Actor, audit } from "../audit/audit.js";
import { emitEvent } from "../events/emit.js";
import { getTenant } from "../identity/tenants.js";
import { appendLedgerEntry, type LedgerKind } from "./ledger.js";

export interface CreditInput {
  tenantId: number;
  kind: Extract<LedgerKind, "grant" | "topup" | "refund" | "adjustment" | "invoice_payment">;
  amountMicros: bigint;
  description: string;
  /** Makes a repeat (a replayed webhook, a retried request) harmless: a second credit with it is not written. */
  reference?: string;
  invoiceId?: number;
}

/**
 * Adds credit to a tenant inside the caller's transaction: one ledger entry, the low-balance warnings the new
 * balance is above again are re-armed, and `billing.credits_added` is emitted. Returns null for a repeat.
 */
export async function creditTenant(ctx: AppContext, tx: Executor, input: CreditInput) {
  if (input.amountMicros <= 0n && input.kind !== "adjustment") throw badRequest("amount_usd must be greater than 0");
  const now = ctx.clock.now();
  const entry = await appendLedgerEntry(tx, { ...input, at: now });
  if (!entry) return null;
  // Warned thresholds the balance is back above may warn again the next time it falls through them.
  await tx
    .delete(balanceWarnings)
    .where(
      and(eq(balanceWarnings.tenantId, input.tenantId), lt(balanceWarnings.thresholdMicros, entry.balanceAfterMicros)),
    );
  await emitEvent(
    tx,
    input.tenantId,
    "billing.credits_added",
    {
      tenant_id: input.tenantId,
      kind: input.kind,
      amount_usd: microsToUsd(input.amountMicros),
      balance_usd: microsToUsdNumber(entry.balanceAfterMicros),
      balance: microsToUsd(entry.balanceAfterMicros),
      ledger_entry_id: String(entry.id),
    },
    now,
  );
  return entry;
}

/** Operator grant (POST /tenants/{id}/credits), recorded as `credit.grant`. */
export async function grantCredits(
  ctx: AppContext,
  actor: Actor,
  input: { tenantId: number; amountMicros: bigint; description?: string },
) {
  await getTenant(ctx, input.tenantId);
  const entry = await ctx.db.transaction(async (tx) => {
    const entry = await creditTenant(ctx, tx, {
      tenantId: input.tenantId,
      kind: "grant",
      amountMicros: input.amountMicros,
      description: input.description?.trim() || "Credit grant",
    });
    await audit(tx, actor, {
      action: "credit.grant",
      target: `ledger_entry:${entry!.id}`,
      tenantId: input.tenantId,
      after: {
        amount_usd: microsToUsd(input.amountMicros),
        description: entry!.description,
        balance_usd: microsToUsd(entry!.balanceAfterMicros),
      },
    });
    return entry;
  });
  return entry!;
}
