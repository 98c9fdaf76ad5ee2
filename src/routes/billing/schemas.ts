import { z } from "@hono/zod-openapi";
import type { Config } from "../../config.js";
import { type Burn, runwaySeconds } from "../../domain/billing/burn.js";
import { type LedgerRow, ledgerKinds } from "../../domain/billing/ledger.js";
import { type BillingMode, billingModes } from "../../domain/identity/tenants.js";
import { microsToUsd, microsToUsdNumber } from "../../lib/money.js";
import { int32, isoDate, urlInt, usdAmount } from "../../lib/schemas.js";

/** A dollar amount as a decimal string ("25.50") or a JSON number (25.5), read digit by digit into micros. */
export const UsdAmount = usdAmount();

export const TenantQuery = z.object({
  tenant_id: urlInt().optional().openapi({ description: "Operator keys: the tenant to act on" }),
});

export const TenantIdParam = z.object({
  id: urlInt().openapi({ param: { name: "id", in: "path" }, example: 1 }),
});

export const Balance = z
  .object({
    tenant_id: z.number().int(),
    balance_usd: z.number().openapi({ description: "For display: dollars rounded from the exact balance" }),
    balance: z.string().openapi({ example: "12.345678", description: "Exact balance in dollars" }),
    balance_micros: z.string().openapi({ example: "12345678", description: "Exact balance in micro-dollars" }),
    currency: z.literal("usd"),
    billing_mode: z.enum(billingModes).openapi({
      description: "prepaid: the balance is credit and gates deploying; invoiced: a negative balance is owed",
    }),
    minimum_balance_usd: z.number().openapi({
      description: "The floor; deploying a type also needs the price of its first stretch (first_stretch_minutes)",
    }),
    first_stretch_minutes: z.number().int(),
    can_deploy: z.boolean().openapi({ description: "The balance passes the floor (the type's first stretch aside)" }),
    burn_rate_usd_per_hour: z
      .string()
      .nullable()
      .openapi({ description: "What the running instances and jobs cost per hour; null when nothing runs" }),
    runway_seconds: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "Seconds until auto-stop at the burn rate (prepaid); null when nothing runs" }),
    auto_stop_warning: z
      .boolean()
      .openapi({ description: "Auto-stop is near (within GPUPLANE_AUTO_STOP_WARN_MINUTES)" }),
    topups_enabled: z
      .boolean()
      .openapi({ description: "Card top-ups (Stripe Checkout) are configured; otherwise the operator grants credit" }),
  })
  .openapi("Balance");

export const balanceView = (
  tenantId: number,
  balance: bigint,
  config: Config,
  mode: BillingMode,
  burn?: Pick<Burn, "balance" | "ratePerHour" | "reserve">,
) => {
  const running = burn && burn.ratePerHour > 0n ? { ...burn, balance } : undefined;
  const runway = mode === "prepaid" && running ? runwaySeconds(running) : null;
  return {
    tenant_id: tenantId,
    balance_usd: microsToUsdNumber(balance),
    balance: microsToUsd(balance),
    balance_micros: balance.toString(),
    currency: "usd" as const,
    billing_mode: mode,
    minimum_balance_usd: microsToUsdNumber(config.minBalanceMicros),
    first_stretch_minutes: config.firstStretchSeconds / 60,
    can_deploy: mode === "invoiced" || (balance >= config.minBalanceMicros && balance > 0n),
    burn_rate_usd_per_hour: running ? microsToUsd(running.ratePerHour) : null,
    runway_seconds: runway,
    auto_stop_warning: runway !== null && runway < config.autoStopWarnSeconds,
    topups_enabled: Boolean(config.stripeSecretKey),
  };
};

export const Transaction = z
  .object({
    id: z.string(),
    tenant_id: z.number().int(),
    kind: z.enum(ledgerKinds),
    amount_usd: z.string().openapi({ example: "-0.250000", description: "Signed: credits positive, charges negative" }),
    amount_micros: z.string(),
    balance_after_usd: z.string(),
    balance_after_micros: z.string(),
    description: z.string(),
    instance_id: z.string().nullable(),
    job_id: z.number().int().nullable(),
    volume_id: z.string().nullable(),
    period_start: z.string().nullable(),
    period_end: z.string().nullable(),
    quantity_seconds: z.number().int().nullable(),
    invoice_id: z.number().int().nullable(),
    created_at: z.string(),
  })
  .openapi("Transaction");

export const transactionView = (e: LedgerRow) => ({
  id: String(e.id),
  tenant_id: e.tenantId,
  kind: e.kind,
  amount_usd: microsToUsd(e.amountMicros),
  amount_micros: e.amountMicros.toString(),
  balance_after_usd: microsToUsd(e.balanceAfterMicros),
  balance_after_micros: e.balanceAfterMicros.toString(),
  description: e.description,
  instance_id: e.instanceId,
  job_id: e.jobId,
  volume_id: e.volumeId,
  period_start: e.periodStart?.toISOString() ?? null,
  period_end: e.periodEnd?.toISOString() ?? null,
  quantity_seconds: e.quantitySeconds,
  invoice_id: e.invoiceId,
  created_at: e.createdAt.toISOString(),
});

export const GrantBody = z
  .object({
    amount_usd: UsdAmount,
    description: z.string().max(500).optional(),
  })
  .openapi("CreditGrant");

export const Grant = z.object({ transaction: Transaction, balance: Balance }).openapi("CreditGrantResult");

export const DaysQuery = z.object({
  days: urlInt(1, 90).default(30).openapi({ description: "1–90 (default 30)" }),
});

export const Usage = z
  .object({
    tenant_id: z.number().int(),
    from: z.string(),
    to: z.string(),
    total_usd: z.string(),
    items: z.array(
      z.object({
        kind: z.enum(["instance", "job", "volume"]),
        id: z.string(),
        amount_usd: z.string(),
        seconds: z.number().int(),
        first_start: z.string().nullable(),
        last_end: z.string().nullable(),
      }),
    ),
    days: z.array(z.object({ day: z.string(), amount_usd: z.string(), seconds: z.number().int() })),
    by_subject_day: z
      .array(
        z.object({
          day: z.string().openapi({ example: "2026-11-30", description: "UTC day the charges were made" }),
          kind: z.enum(["instance", "job", "volume"]),
          id: z.string(),
          name: z.string().nullable(),
          amount_usd: z.string(),
          amount_micros: z.string(),
          seconds: z.number().int(),
        }),
      )
      .openapi({ description: "Usage per instance, job or volume per day: the meter's passes summed" }),
  })
  .openapi("Usage");

export const Summary = z
  .object({
    days: z.number().int(),
    from: z.string(),
    to: z.string(),
    usage_usd: z.string(),
    credits_usd: z.string(),
    invoiced_usd: z.string(),
    tenants: z.array(
      z.object({
        tenant_id: z.number().int(),
        name: z.string(),
        usage_usd: z.string(),
        credits_usd: z.string(),
        invoiced_usd: z.string(),
        balance: z.string(),
        balance_usd: z.number(),
        running_instances: z.number().int(),
      }),
    ),
  })
  .openapi("BillingSummary");

export const InvoiceLine = z.object({
  id: z.number().int(),
  description: z.string(),
  quantity_seconds: z.number().int().nullable(),
  amount_usd: z.string(),
  instance_id: z.string().nullable(),
  job_id: z.number().int().nullable(),
});

export const Invoice = z
  .object({
    id: z.number().int(),
    tenant_id: z.number().int(),
    period_start: z.string(),
    period_end: z.string(),
    status: z.enum(["draft", "open", "paid", "void"]),
    currency: z.string(),
    total_usd: z.string(),
    total_micros: z.string(),
    stripe_invoice_id: z.string().nullable(),
    stripe_status: z.string().nullable(),
    hosted_invoice_url: z.string().nullable(),
    created_at: z.string(),
    finalized_at: z.string().nullable(),
    paid_at: z.string().nullable(),
    voided_at: z.string().nullable(),
    lines: z.array(InvoiceLine).optional(),
  })
  .openapi("Invoice");

const iso = (d: Date | null) => d?.toISOString() ?? null;

export const invoiceView = (i: any, lines?: any[]) => ({
  id: i.id,
  tenant_id: i.tenantId,
  period_start: i.periodStart.toISOString(),
  period_end: i.periodEnd.toISOString(),
  status: i.status,
  currency: i.currency,
  total_usd: microsToUsd(i.totalMicros),
  total_micros: i.totalMicros.toString(),
  stripe_invoice_id: i.stripeInvoiceId,
  stripe_status: i.stripeStatus,
  hosted_invoice_url: i.hostedInvoiceUrl,
  created_at: i.createdAt.toISOString(),
  finalized_at: iso(i.finalizedAt),
  paid_at: iso(i.paidAt),
  voided_at: iso(i.voidedAt),
  lines: lines?.map((l) => ({
    id: l.id,
    description: l.description,
    quantity_seconds: l.quantitySeconds,
    amount_usd: microsToUsd(l.amountMicros),
    instance_id: l.instanceId,
    job_id: l.jobId,
  })),
});

const InvoiceDays = z.coerce
  .number()
  .int()
  .min(1, "days must be between 1 and 90")
  .max(90, "days must be between 1 and 90")
  .openapi({ description: "Billing period: the last `days` days up to now, 1–90 (seed 002; default 30)" });

export const GenerateInvoicesBody = z
  .object({
    tenant_id: int32().optional(),
    period_start: isoDate().optional(),
    period_end: isoDate().optional(),
    days: InvoiceDays.optional(),
  })
  .superRefine((body, ctx) => {
    if ((body.period_start === undefined) !== (body.period_end === undefined)) {
      ctx.addIssue({ code: "custom", message: "give both period_start and period_end, or neither (then `days`)" });
    } else if (body.period_start !== undefined && body.days !== undefined) {
      ctx.addIssue({ code: "custom", message: "give either days or period_start/period_end, not both" });
    }
  })
  .openapi("GenerateInvoices");

/** Seed 002 passes `days` as a query parameter; the body's `days` does the same. */
export const GenerateInvoicesQuery = z.object({ days: InvoiceDays.optional() });

export const InvoicePatch = z.object({ status: z.enum(["draft", "open", "paid", "void"]) }).openapi("InvoicePatch");

export const TopupBody = z.object({ amount_usd: UsdAmount }).openapi("TopupRequest");

export const Topup = z
  .object({
    id: z.string(),
    tenant_id: z.number().int(),
    amount_usd: z.string(),
    status: z.string(),
    checkout_url: z.string().nullable(),
    stripe_session_id: z.string().nullable(),
    created_at: z.string(),
    completed_at: z.string().nullable(),
  })
  .openapi("Topup");

export const topupView = (t: any) => ({
  id: t.id,
  tenant_id: t.tenantId,
  amount_usd: microsToUsd(t.amountMicros),
  status: t.status,
  checkout_url: t.checkoutUrl,
  stripe_session_id: t.stripeSessionId,
  created_at: t.createdAt.toISOString(),
  completed_at: iso(t.completedAt),
});
