import { z } from "@hono/zod-openapi";
import { billingModeOf } from "../../domain/billing/balance.js";
import { prepaidBurn } from "../../domain/billing/burn.js";
import { grantCredits } from "../../domain/billing/credits.js";
import { currentBalance, ledgerKinds, listTransactions } from "../../domain/billing/ledger.js";
import { actingFor, createRoute, operator, tenant } from "../../http/access.js";
import { appCtx, auditActor, router } from "../../http/env.js";
import { commonErrors, envelope, jsonBody, jsonResponse, listEnvelope, ok, okList } from "../../http/envelope.js";
import { PageQuery } from "../../http/pagination.js";
import {
  Balance,
  balanceView,
  Grant,
  GrantBody,
  TenantIdParam,
  TenantQuery,
  Transaction,
  transactionView,
} from "./schemas.js";

export const balanceRoutes = router();
const tags = ["Billing"];

balanceRoutes.openapi(
  createRoute({
    method: "get",
    path: "/billing/balance",
    access: tenant("billing", "read"),
    tags,
    summary: "The balance (exact string and display number): prepaid credit, or what an invoiced tenant owes (< 0)",
    request: { query: TenantQuery },
    responses: { 200: jsonResponse(envelope(Balance), "Balance"), ...commonErrors },
  }),
  async (c) => {
    const ctx = appCtx(c);
    const tenantId = actingFor(c, c.req.valid("query").tenant_id);
    const mode = await billingModeOf(ctx.db, tenantId); // 404 for a tenant that does not exist
    const [balance, [burn]] = await Promise.all([
      currentBalance(ctx.db, tenantId),
      prepaidBurn(ctx.db, ctx.config.meterIntervalMs / 1000, tenantId),
    ]);
    return ok(c, Balance, balanceView(tenantId, balance, ctx.config, mode, burn));
  },
);

balanceRoutes.openapi(
  createRoute({
    method: "get",
    path: "/billing/transactions",
    access: tenant("billing", "read"),
    tags,
    summary: "Ledger entries, newest first: sign-up credit, top-ups, grants, usage, refunds, adjustments",
    request: { query: PageQuery.extend(TenantQuery.shape).extend({ kind: z.enum(ledgerKinds).optional() }) },
    responses: { 200: jsonResponse(listEnvelope(Transaction), "Transactions"), ...commonErrors },
  }),
  async (c) => {
    const ctx = appCtx(c);
    const query = c.req.valid("query");
    const tenantId = actingFor(c, query.tenant_id);
    const page = await listTransactions(ctx, tenantId, query);
    return okList(c, Transaction, { ...page, items: page.items.map(transactionView) });
  },
);

balanceRoutes.openapi(
  createRoute({
    method: "post",
    path: "/tenants/{id}/credits",
    access: operator("write"),
    tags,
    summary: "Grant credits to a tenant (operator); send Idempotency-Key to make a retry harmless",
    request: { params: TenantIdParam, ...jsonBody(GrantBody) },
    responses: { 201: jsonResponse(envelope(Grant), "Granted"), ...commonErrors },
  }),
  async (c) => {
    const ctx = appCtx(c);
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    const entry = await grantCredits(ctx, auditActor(c), {
      tenantId: id,
      amountMicros: body.amount_usd,
      description: body.description,
    });
    const mode = await billingModeOf(ctx.db, id);
    return ok(
      c,
      Grant,
      {
        transaction: transactionView(entry),
        balance: balanceView(id, entry.balanceAfterMicros, ctx.config, mode),
      },
      201,
    );
  },
);
