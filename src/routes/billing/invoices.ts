import { z } from "@hono/zod-openapi";
import {
  generateInvoices,
  getInvoice,
  lastDays,
  listInvoices,
  setInvoiceStatus,
} from "../../domain/billing/invoices.js";
import { isOperator } from "../../domain/identity/principal.js";
import { createRoute, listTenant, operator, tenant, tenantScope } from "../../http/access.js";
import { appCtx, principal, router } from "../../http/env.js";
import {
  commonErrors,
  envelope,
  errorResponses,
  jsonBody,
  jsonResponse,
  listEnvelope,
  ok,
  okList,
} from "../../http/envelope.js";
import { PageQuery } from "../../http/pagination.js";
import { ApiError, badRequest } from "../../lib/errors.js";
import { urlInt } from "../../lib/schemas.js";
import {
  GenerateInvoicesBody,
  GenerateInvoicesQuery,
  Invoice,
  InvoicePatch,
  invoiceView,
  TenantQuery,
} from "./schemas.js";

export const invoiceRoutes = router();
const tags = ["Billing"];
const InvoiceId = z.object({
  id: urlInt().openapi({ param: { name: "id", in: "path" } }),
});

invoiceRoutes.openapi(
  createRoute({
    method: "get",
    path: "/billing/invoices",
    access: tenant("billing", "read"),
    tags,
    summary: "Invoices, newest first (a tenant's own; every tenant's, or one with tenant_id, for the operator)",
    request: {
      query: PageQuery.extend(TenantQuery.shape).extend({
        status: z.enum(["draft", "open", "paid", "void"]).optional(),
      }),
    },
    responses: { 200: jsonResponse(listEnvelope(Invoice), "Invoices"), ...commonErrors },
  }),
  async (c) => {
    const caller = principal(c);
    const query = c.req.valid("query");
    if (!isOperator(caller) && query.tenant_id !== undefined && query.tenant_id !== caller.tenantId) {
      throw new ApiError("NOT_FOUND", "tenant not found");
    }
    const tenantId = listTenant(c, query.tenant_id);
    const page = await listInvoices(appCtx(c), tenantId, query);
    return okList(c, Invoice, { ...page, items: page.items.map((i) => invoiceView(i)) });
  },
);

invoiceRoutes.openapi(
  createRoute({
    method: "get",
    path: "/billing/invoices/{id}",
    access: tenant("billing", "read"),
    tags,
    summary: "One invoice with its lines",
    request: { params: InvoiceId },
    responses: { 200: jsonResponse(envelope(Invoice), "Invoice"), ...commonErrors },
  }),
  async (c) => {
    const { invoice, lines } = await getInvoice(appCtx(c), c.req.valid("param").id, tenantScope(c));
    return ok(c, Invoice, invoiceView(invoice, lines));
  },
);

invoiceRoutes.openapi(
  createRoute({
    method: "post",
    path: "/billing/invoices",
    access: operator("write"),
    tags,
    summary:
      "Generate draft invoices from uninvoiced usage for the last `days` days (default 30) or an explicit period (operator; one tenant or all)",
    request: { query: GenerateInvoicesQuery, ...jsonBody(GenerateInvoicesBody, false) },
    responses: { 201: jsonResponse(envelope(z.array(Invoice)), "Generated"), ...commonErrors },
  }),
  async (c) => {
    const ctx = appCtx(c);
    const body = c.req.valid("json");
    const queryDays = c.req.valid("query").days;
    if (queryDays !== undefined && (body.days !== undefined || body.period_start !== undefined)) {
      throw badRequest("give the period once: ?days=, or days / period_start and period_end in the body");
    }
    const made = await generateInvoices(ctx, {
      tenantId: body.tenant_id,
      ...(body.period_start && body.period_end
        ? { periodStart: new Date(body.period_start), periodEnd: new Date(body.period_end) }
        : lastDays(ctx.clock.now(), queryDays ?? body.days ?? 30)),
    });
    return ok(
      c,
      z.array(Invoice),
      made.map((i) => invoiceView(i)),
      201,
    );
  },
);

invoiceRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/billing/invoices/{id}",
    access: operator("write"),
    tags,
    summary: "Move an invoice: draft → open (pushed to Stripe when configured) → paid, or → void (operator)",
    request: { params: InvoiceId, ...jsonBody(InvoicePatch) },
    responses: { 200: jsonResponse(envelope(Invoice), "Updated"), ...commonErrors, 409: errorResponses[409] },
  }),
  async (c) => {
    const ctx = appCtx(c);
    const updated = await setInvoiceStatus(ctx, c.req.valid("param").id, c.req.valid("json").status);
    return ok(c, Invoice, invoiceView(updated), 200);
  },
);
