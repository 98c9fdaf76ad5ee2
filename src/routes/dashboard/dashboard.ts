import { z } from "@hono/zod-openapi";
import { dashboardKpis, fleetOverview } from "../../domain/dashboard/kpis.js";
import { revenueLeakage } from "../../domain/dashboard/leakage.js";
import { revenueBreakdown } from "../../domain/dashboard/revenue.js";
import { createRoute, operator } from "../../http/access.js";
import { appCtx, router } from "../../http/env.js";
import { commonErrors, envelope, jsonResponse, ok } from "../../http/envelope.js";
import { microsToUsd } from "../../lib/money.js";
import { urlInt } from "../../lib/schemas.js";

export const dashboardRoutes = router();
const tags = ["Dashboard"];

export const DaysQuery = z.object({
  days: urlInt(1, 90).default(30).openapi({ description: "Lookback window, 1–90 days" }),
});
const usd = z.string().openapi({ description: "US dollars, exact decimal", example: "1234.560000" });
const GpuCounts = z.object({
  total: z.number().int(),
  allocated: z.number().int(),
  idle: z.number().int(),
  unhealthy: z.number().int(),
  draining: z.number().int(),
});

const Kpis = z
  .object({
    days: z.number().int(),
    gpus: GpuCounts,
    fleet_utilization_pct: z
      .number()
      .nullable()
      .openapi({ description: "Mean of GPUs' newest samples (≤ 10 min old)" }),
    allocation_pct: z.number(),
    running_instances: z.number().int(),
    running_jobs: z.number().int(),
    queued_jobs: z.number().int(),
    blocked_jobs: z.number().int(),
    tenants: z.number().int(),
    active_tenants: z.number().int(),
    clusters: z.number().int(),
    nodes: z.number().int(),
    revenue_usd: usd,
    balance_owed_usd: usd,
  })
  .openapi("DashboardKpis");

dashboardRoutes.openapi(
  createRoute({
    method: "get",
    path: "/dashboard",
    access: operator("read"),
    tags,
    summary: "Executive KPIs: GPUs by state, utilization, work, tenants, revenue for the window, balance owed",
    request: { query: DaysQuery },
    responses: { 200: jsonResponse(envelope(Kpis), "KPIs"), ...commonErrors },
  }),
  async (c) => {
    const k = await dashboardKpis(appCtx(c), c.req.valid("query").days);
    return ok(
      c,
      Kpis,
      {
        days: k.days,
        gpus: k.gpus,
        fleet_utilization_pct: k.fleetUtilizationPct,
        allocation_pct: k.allocationPct,
        ...k.work,
        revenue_usd: microsToUsd(k.revenueMicros),
        balance_owed_usd: microsToUsd(k.balanceOwedMicros),
      },
      200,
    );
  },
);

const FleetNode = z.object({
  id: z.number().int(),
  hostname: z.string(),
  status: z.string(),
  last_heartbeat_at: z.string().nullable(),
  gpus: GpuCounts,
  utilization_pct: z.number().nullable(),
});
const FleetCluster = z
  .object({
    id: z.number().int(),
    name: z.string(),
    region: z.string().nullable(),
    node_count: z.number().int(),
    gpus: GpuCounts,
    utilization_pct: z.number().nullable(),
    nodes: z.array(FleetNode),
  })
  .openapi("FleetOverviewCluster");

dashboardRoutes.openapi(
  createRoute({
    method: "get",
    path: "/dashboard/fleet",
    access: operator("read"),
    tags,
    summary: "Fleet overview per cluster and node: GPUs by state and utilization",
    responses: { 200: jsonResponse(envelope(z.array(FleetCluster)), "Fleet"), ...commonErrors },
  }),
  async (c) => {
    return ok(c, z.array(FleetCluster), await fleetOverview(appCtx(c)), 200);
  },
);

const Revenue = z
  .object({
    days: z.number().int(),
    total_usd: usd,
    by_day: z.array(z.object({ day: z.string(), amount_usd: usd })),
    by_tenant: z.array(z.object({ tenant_id: z.number().int(), name: z.string(), amount_usd: usd })),
    by_gpu_model: z.array(z.object({ model: z.string(), amount_usd: usd })),
    by_day_gpu_model: z
      .array(z.object({ day: z.string(), model: z.string(), amount_usd: usd }))
      .openapi({ description: "Revenue per UTC day per GPU model (days without revenue left out)" }),
  })
  .openapi("DashboardRevenue");

dashboardRoutes.openapi(
  createRoute({
    method: "get",
    path: "/dashboard/revenue",
    access: operator("read"),
    tags,
    summary: "Revenue from usage charges by day, tenant and GPU model",
    request: { query: DaysQuery },
    responses: { 200: jsonResponse(envelope(Revenue), "Revenue"), ...commonErrors },
  }),
  async (c) => {
    const r = await revenueBreakdown(appCtx(c), c.req.valid("query").days);
    return ok(
      c,
      Revenue,
      {
        days: r.days,
        total_usd: microsToUsd(r.totalMicros),
        by_day: r.byDay.map((d) => ({ day: d.day, amount_usd: microsToUsd(d.amountMicros) })),
        by_tenant: r.byTenant.map((t) => ({
          tenant_id: t.tenantId,
          name: t.name,
          amount_usd: microsToUsd(t.amountMicros),
        })),
        by_gpu_model: r.byGpuModel.map((m) => ({ model: m.model, amount_usd: microsToUsd(m.amountMicros) })),
        by_day_gpu_model: r.byDayGpuModel.map((d) => ({
          day: d.day,
          model: d.model,
          amount_usd: microsToUsd(d.amountMicros),
        })),
      },
      200,
    );
  },
);

const LeakCategory = z.object({
  count: z.number().int(),
  amount_usd: usd,
  items: z.array(z.record(z.string(), z.unknown())),
});
const Leakage = z
  .object({
    days: z.number().int(),
    total_usd: usd,
    unbilled_allocations: LeakCategory.openapi({ description: "GPUs held with no paying workload" }),
    unmetered_workloads: LeakCategory.openapi({ description: "Running work not charged for over two meter intervals" }),
    uninvoiced_charges: LeakCategory.openapi({ description: "Usage charges from past months on no invoice" }),
    negative_balances: LeakCategory.openapi({ description: "Tenants below zero" }),
  })
  .openapi("DashboardLeakage");

const snake = (s: string) => s.replace(/[A-Z]/g, (ch) => `_${ch.toLowerCase()}`);
const itemView = (item: Record<string, unknown>) =>
  Object.fromEntries(
    Object.entries(item).map(([k, v]) =>
      k === "amountMicros" ? ["amount_usd", microsToUsd(v as bigint)] : [snake(k), v],
    ),
  );

dashboardRoutes.openapi(
  createRoute({
    method: "get",
    path: "/dashboard/leakage",
    access: operator("read"),
    tags,
    summary: "Revenue leakage: GPU time used but not charged, charges not invoiced, balances below zero",
    request: { query: DaysQuery },
    responses: { 200: jsonResponse(envelope(Leakage), "Leakage"), ...commonErrors },
  }),
  async (c) => {
    const l = await revenueLeakage(appCtx(c), c.req.valid("query").days);
    const view = Object.fromEntries(
      Object.entries(l.categories).map(([name, cat]) => [
        name,
        { count: cat.count, amount_usd: microsToUsd(cat.amountMicros), items: cat.items.map(itemView) },
      ]),
    );
    return ok(c, Leakage, { days: l.days, total_usd: microsToUsd(l.totalMicros), ...view }, 200);
  },
);
