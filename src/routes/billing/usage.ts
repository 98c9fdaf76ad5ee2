import { billingSummary, usageReport, usageWindow } from "../../domain/billing/usage.js";
import { actingFor, createRoute, listTenant, tenant } from "../../http/access.js";
import { appCtx, router } from "../../http/env.js";
import { commonErrors, envelope, jsonResponse, ok } from "../../http/envelope.js";
import { microsToUsd, microsToUsdNumber } from "../../lib/money.js";
import { DaysQuery, Summary, TenantQuery, Usage } from "./schemas.js";

export const usageRoutes = router();
const tags = ["Billing"];

usageRoutes.openapi(
  createRoute({
    method: "get",
    path: "/billing/usage",
    access: tenant("billing", "read"),
    tags,
    summary: "Usage charges per instance, job and volume, and per day, over the last `days`",
    request: { query: TenantQuery.extend(DaysQuery.shape) },
    responses: { 200: jsonResponse(envelope(Usage), "Usage"), ...commonErrors },
  }),
  async (c) => {
    const ctx = appCtx(c);
    const query = c.req.valid("query");
    const tenantId = actingFor(c, query.tenant_id);
    const { from, to } = usageWindow(ctx, query.days);
    const report = await usageReport(ctx, tenantId, from, to);
    return ok(c, Usage, {
      tenant_id: tenantId,
      from: from.toISOString(),
      to: to.toISOString(),
      total_usd: microsToUsd(report.items.reduce((sum, i) => sum + i.amountMicros, 0n)),
      items: report.items.map((i) => ({
        kind: i.kind,
        id: i.id,
        amount_usd: microsToUsd(i.amountMicros),
        seconds: i.seconds,
        first_start: i.firstStart?.toISOString() ?? null,
        last_end: i.lastEnd?.toISOString() ?? null,
      })),
      days: report.days.map((d) => ({ day: d.day, amount_usd: microsToUsd(d.amountMicros), seconds: d.seconds })),
      by_subject_day: report.bySubjectDay.map((d) => ({
        day: d.day,
        kind: d.kind,
        id: d.id,
        name: d.name,
        amount_usd: microsToUsd(d.amountMicros),
        amount_micros: d.amountMicros.toString(),
        seconds: d.seconds,
      })),
    });
  },
);

usageRoutes.openapi(
  createRoute({
    method: "get",
    path: "/billing/summary",
    access: tenant("billing", "read"),
    tags,
    summary: "Billing summary over the last `days` (1–90): every tenant for the operator, its own for a tenant",
    request: { query: TenantQuery.extend(DaysQuery.shape) },
    responses: { 200: jsonResponse(envelope(Summary), "Summary"), ...commonErrors },
  }),
  async (c) => {
    const ctx = appCtx(c);
    const query = c.req.valid("query");
    const tenantId = listTenant(c, query.tenant_id);
    const s = await billingSummary(ctx, tenantId, query.days);
    return ok(c, Summary, {
      days: s.days,
      from: s.from.toISOString(),
      to: s.to.toISOString(),
      usage_usd: microsToUsd(s.usageMicros),
      credits_usd: microsToUsd(s.creditsMicros),
      invoiced_usd: microsToUsd(s.invoicedMicros),
      tenants: s.tenants.map((t) => ({
        tenant_id: t.tenantId,
        name: t.name,
        usage_usd: microsToUsd(t.usageMicros),
        credits_usd: microsToUsd(t.creditsMicros),
        invoiced_usd: microsToUsd(t.invoicedMicros),
        balance: microsToUsd(t.balanceMicros),
        balance_usd: microsToUsdNumber(t.balanceMicros),
        running_instances: t.runningInstances,
      })),
    });
  },
);
