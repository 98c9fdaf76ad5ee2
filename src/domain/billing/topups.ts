import { and, eq, isNull, or } from "drizzle-orm";
import type Stripe from "stripe";
import type { AppContext } from "../../context.js";
import { invoices, topups } from "../../db/schema/index.js";
import { ApiError, badRequest } from "../../lib/errors.js";
import { newId } from "../../lib/ids.js";
import { creditTenant } from "./credits.js";
import { recordInvoicePaid } from "./invoices.js";
import { centsToMicros, microsToCents, requireStripe } from "./stripe.js";
import { stripeCustomerFor } from "./stripe-invoices.js";

export type TopupRow = typeof topups.$inferSelect;

/**
 * A top-up through Stripe Checkout: the session's URL is where the customer pays; the credit is written when
 * Stripe's signed `checkout.session.completed` webhook arrives (handleStripeEvent), never on the redirect.
 */
export async function createTopup(ctx: AppContext, tenantId: number, amountMicros: bigint): Promise<TopupRow> {
  const stripe = requireStripe(ctx, "a top-up");
  if (amountMicros < 1_000_000n) throw badRequest("amount_usd must be at least 1.00");
  if (amountMicros % 10_000n !== 0n) throw badRequest("amount_usd must be whole cents");
  const id = newId("top");
  const customer = await stripeCustomerFor(ctx, tenantId);
  const base = ctx.config.publicUrl ?? "http://localhost:8080";
  const session = await stripe.checkout.sessions.create(
    {
      mode: "payment",
      customer,
      client_reference_id: id,
      line_items: [
        {
          quantity: 1,
          price_data: {
            currency: "usd",
            unit_amount: microsToCents(amountMicros),
            product_data: { name: "gpuplane prepaid credits" },
          },
        },
      ],
      success_url: `${base}/billing?topup=${id}&status=success`,
      cancel_url: `${base}/billing?topup=${id}&status=cancelled`,
      metadata: { gpuplane_topup_id: id, gpuplane_tenant_id: String(tenantId) },
    },
    { idempotencyKey: `gpuplane-topup-${id}` },
  );
  const [row] = await ctx.db
    .insert(topups)
    .values({
      id,
      tenantId,
      amountMicros,
      status: "pending",
      stripeSessionId: session.id,
      checkoutUrl: session.url ?? null,
      createdAt: ctx.clock.now(),
    })
    .returning();
  return row;
}

/** Verifies a Stripe webhook's signature (STRIPE_WEBHOOK_SECRET) and handles it; a replay changes nothing. */
export async function handleStripeWebhook(ctx: AppContext, payload: string, signature: string | undefined) {
  const stripe = requireStripe(ctx, "the Stripe webhook");
  const secret = ctx.config.stripeWebhookSecret;
  if (!secret) throw new ApiError("UNAVAILABLE", "STRIPE_WEBHOOK_SECRET is not set");
  if (!signature) throw badRequest("missing Stripe-Signature header");
  let event: Stripe.Event;
  try {
    event = stripe.webhooks.constructEvent(payload, signature, secret);
  } catch (error) {
    throw badRequest(`invalid Stripe signature: ${(error as Error).message}`);
  }
  if (event.type === "checkout.session.completed")
    return { event: event.type, ...(await completeTopup(ctx, event.data.object)) };
  if (event.type === "invoice.paid") return { event: event.type, ...(await markInvoicePaid(ctx, event.data.object)) };
  return { event: event.type, handled: false };
}

async function completeTopup(ctx: AppContext, session: Stripe.Checkout.Session) {
  if (session.payment_status !== "paid") return { handled: false };
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const [topup] = await tx.select().from(topups).where(eq(topups.stripeSessionId, session.id)).for("update");
    if (!topup) return { handled: false };
    if (topup.status === "succeeded") return { handled: true, duplicate: true };
    // Credit what Stripe says was paid (it can differ from the request with adjustable quantities or discounts).
    const paid = session.amount_total !== null ? centsToMicros(session.amount_total) : topup.amountMicros;
    await creditTenant(ctx, tx, {
      tenantId: topup.tenantId,
      kind: "topup",
      amountMicros: paid,
      description: "Top-up via Stripe Checkout",
      reference: `topup:${topup.id}`,
    });
    await tx
      .update(topups)
      .set({
        status: "succeeded",
        completedAt: now,
        stripePaymentIntentId: typeof session.payment_intent === "string" ? session.payment_intent : null,
      })
      .where(eq(topups.id, topup.id));
    return { handled: true, duplicate: false };
  });
}

/** Stripe's `invoice.paid`: the open invoice is paid (and its total credited back, recordInvoicePaid); once. */
async function markInvoicePaid(ctx: AppContext, stripeInvoice: Stripe.Invoice) {
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    // Stripe can announce the payment before the push that created its invoice has stored Stripe's id (the push
    // finalizes, then writes): then our own id, put in the invoice's metadata at creation, finds it.
    const ours = Number(stripeInvoice.metadata?.gpuplane_invoice_id);
    const byStripeId = eq(invoices.stripeInvoiceId, stripeInvoice.id!);
    const [invoice] = await tx
      .select()
      .from(invoices)
      .where(
        Number.isSafeInteger(ours) && ours > 0
          ? or(byStripeId, and(eq(invoices.id, ours), isNull(invoices.stripeInvoiceId)))
          : byStripeId,
      )
      .for("update");
    if (!invoice) return { handled: false };
    if (invoice.status === "paid") return { handled: true, duplicate: true };
    // A voided invoice stays void; the payment is for an operator to refund or reconcile in Stripe.
    if (invoice.status === "void") return { handled: false };
    const [paid] = await tx
      .update(invoices)
      .set({
        status: "paid",
        stripeInvoiceId: stripeInvoice.id,
        stripeStatus: stripeInvoice.status ?? "paid",
        paidAt: now,
      })
      .where(eq(invoices.id, invoice.id))
      .returning();
    await recordInvoicePaid(ctx, tx, paid, "stripe");
    return { handled: true, duplicate: false };
  });
}

export async function listTopups(ctx: AppContext, tenantId: number) {
  return ctx.db.select().from(topups).where(eq(topups.tenantId, tenantId)).orderBy(topups.createdAt);
}
