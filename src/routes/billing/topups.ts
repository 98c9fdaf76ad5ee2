import { z } from "@hono/zod-openapi";
import { createTopup, handleStripeWebhook, listTopups } from "../../domain/billing/topups.js";
import { actingFor, createRoute, publicAccess, tenant } from "../../http/access.js";
import { appCtx, router } from "../../http/env.js";
import { commonErrors, envelope, errorResponses, jsonBody, jsonResponse, ok } from "../../http/envelope.js";
import { TenantQuery, Topup, TopupBody, topupView } from "./schemas.js";

export const topupRoutes = router();
const tags = ["Billing"];

topupRoutes.openapi(
  createRoute({
    method: "post",
    path: "/billing/topups",
    access: tenant("billing", "write"),
    tags,
    summary: "Top up credits: returns a Stripe Checkout URL; credited when Stripe confirms payment (webhook)",
    request: { query: TenantQuery, ...jsonBody(TopupBody) },
    responses: {
      201: jsonResponse(envelope(Topup), "Checkout session created"),
      503: errorResponses[503],
      ...commonErrors,
    },
  }),
  async (c) => {
    const ctx = appCtx(c);
    const tenantId = actingFor(c, c.req.valid("query").tenant_id);
    const row = await createTopup(ctx, tenantId, c.req.valid("json").amount_usd);
    return ok(c, Topup, topupView(row), 201);
  },
);

topupRoutes.openapi(
  createRoute({
    method: "get",
    path: "/billing/topups",
    access: tenant("billing", "read"),
    tags,
    summary: "Top-ups and their status",
    request: { query: TenantQuery },
    responses: { 200: jsonResponse(envelope(z.array(Topup)), "Top-ups"), ...commonErrors },
  }),
  async (c) => {
    const rows = await listTopups(appCtx(c), actingFor(c, c.req.valid("query").tenant_id));
    return ok(c, z.array(Topup), rows.map(topupView));
  },
);

const WebhookResult = z.object({ event: z.string(), handled: z.boolean(), duplicate: z.boolean().optional() });

topupRoutes.openapi(
  createRoute({
    method: "post",
    path: "/billing/stripe/webhook",
    // Public: Stripe signs the body (Stripe-Signature); it has no API key to send.
    access: publicAccess,
    tags,
    summary: "Stripe webhook (signed with STRIPE_WEBHOOK_SECRET): checkout.session.completed, invoice.paid",
    responses: { 200: jsonResponse(envelope(WebhookResult), "Handled"), 503: errorResponses[503], ...commonErrors },
  }),
  async (c) => {
    const result = await handleStripeWebhook(
      appCtx(c),
      await c.req.text(),
      c.req.header("stripe-signature") ?? undefined,
    );
    return ok(c, WebhookResult, result, 200);
  },
);
