import { eq } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import { invoiceLines, invoices, tenants } from "../../db/schema/index.js";
import { toMicros } from "../../lib/money.js";
import { microsToCents, stripeOf } from "./stripe.js";

/** The tenant's Stripe customer, created on first use and remembered in tenants.stripe_customer_id. */
export async function stripeCustomerFor(ctx: AppContext, tenantId: number): Promise<string> {
  const stripe = stripeOf(ctx)!;
  const [tenant] = await ctx.db.select().from(tenants).where(eq(tenants.id, tenantId));
  if (tenant.stripeCustomerId) return tenant.stripeCustomerId;
  const customer = await stripe.customers.create(
    {
      name: tenant.name,
      email: tenant.contactEmail ?? tenant.email ?? undefined,
      metadata: { gpuplane_tenant_id: String(tenantId) },
    },
    { idempotencyKey: `gpuplane-customer-${tenantId}` },
  );
  await ctx.db.update(tenants).set({ stripeCustomerId: customer.id }).where(eq(tenants.id, tenantId));
  return customer.id;
}

/**
 * Pushes an invoice to Stripe: a draft invoice for the customer, one invoice item per line (micro-dollars rounded
 * to cents), then finalize. Idempotency keys derived from the invoice make a retried push create nothing twice.
 * With `paidOutOfBand` (a prepaid tenant's statement: its credits paid the usage) the finalized invoice is then
 * marked paid out of band, so Stripe asks nobody to pay it again.
 * Returns the columns to store; {} when Stripe is not configured (the invoice lives in gpuplane alone).
 */
export async function pushInvoiceToStripe(ctx: AppContext, invoiceId: number, options: { paidOutOfBand: boolean }) {
  const stripe = stripeOf(ctx);
  if (!stripe) return {};
  const [invoice] = await ctx.db.select().from(invoices).where(eq(invoices.id, invoiceId));
  const lines = await ctx.db.select().from(invoiceLines).where(eq(invoiceLines.invoiceId, invoiceId));
  const customer = await stripeCustomerFor(ctx, invoice.tenantId);
  const key = `gpuplane-invoice-${invoiceId}`;
  const draft = await stripe.invoices.create(
    {
      customer,
      currency: "usd",
      collection_method: "send_invoice",
      days_until_due: 14,
      auto_advance: false,
      pending_invoice_items_behavior: "exclude",
      description: `GPU usage ${invoice.periodStart.toISOString().slice(0, 10)} – ${invoice.periodEnd.toISOString().slice(0, 10)}`,
      metadata: { gpuplane_invoice_id: String(invoiceId), gpuplane_tenant_id: String(invoice.tenantId) },
    },
    { idempotencyKey: key },
  );
  for (const line of lines) {
    const item = await stripe.invoiceItems.create(
      {
        customer,
        invoice: draft.id,
        currency: "usd",
        amount: microsToCents(toMicros(line.amountMicros)),
        description: line.description,
        metadata: { gpuplane_invoice_line_id: String(line.id) },
      },
      { idempotencyKey: `${key}-line-${line.id}` },
    );
    await ctx.db.update(invoiceLines).set({ stripeInvoiceItemId: item.id }).where(eq(invoiceLines.id, line.id));
  }
  let finalized = await stripe.invoices.finalizeInvoice(draft.id!, {}, { idempotencyKey: `${key}-finalize` });
  // Stripe marks an invoice with nothing due paid when it finalizes it; paying it again would be refused.
  if (options.paidOutOfBand && finalized.status === "open") {
    finalized = await stripe.invoices.pay(
      finalized.id!,
      { paid_out_of_band: true },
      { idempotencyKey: `${key}-paid-out-of-band` },
    );
  }
  return {
    stripeInvoiceId: finalized.id ?? draft.id ?? null,
    stripeStatus: finalized.status ?? null,
    hostedInvoiceUrl: finalized.hosted_invoice_url ?? null,
  };
}
