import { z } from "@hono/zod-openapi";
import { tenantUsage } from "../../domain/dashboard/usage.js";
import { createRoute, tenant, tenantScope } from "../../http/access.js";
import { appCtx, router } from "../../http/env.js";
import { commonErrors, envelope, jsonResponse, ok } from "../../http/envelope.js";
import { ApiError } from "../../lib/errors.js";
import { microsToUsd } from "../../lib/money.js";
import { IntIdParam } from "../fleet/schemas.js";
import { DaysQuery } from "./dashboard.js";

export const tenantUsageRoutes = router();

const Part = z.object({ gpu_hours: z.number(), spend_usd: z.string() });
const Usage = z
  .object({
    tenant_id: z.number().int(),
    days: z.number().int(),
    since: z.string(),
    gpu_hours: z.number(),
    spend_usd: z.string().openapi({ description: "Exact decimal US dollars" }),
    instances: Part,
    jobs: Part,
    by_gpu_model: z.array(Part.extend({ model: z.string() })),
    gpus_in_use: z.number().int(),
    gpu_quota: z.number().int(),
  })
  .openapi("TenantUsage");

const part = (p: { gpuSeconds: number; amountMicros: bigint }) => ({
  gpu_hours: Math.round((p.gpuSeconds / 3600) * 1000) / 1000,
  spend_usd: microsToUsd(p.amountMicros),
});

tenantUsageRoutes.openapi(
  createRoute({
    method: "get",
    path: "/tenants/{id}/usage",
    access: tenant("billing", "read"),
    tags: ["Tenants"],
    summary: "A tenant's GPU-hours and spend over the last days (1–90, default 30); operator or the tenant itself",
    request: { params: IntIdParam, query: DaysQuery },
    responses: { 200: jsonResponse(envelope(Usage), "Usage"), ...commonErrors },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const own = tenantScope(c);
    if (own !== null && own !== id) throw new ApiError("NOT_FOUND", "tenant not found");
    const u = await tenantUsage(appCtx(c), id, c.req.valid("query").days);
    return ok(
      c,
      Usage,
      {
        tenant_id: id,
        days: u.days,
        since: u.since.toISOString(),
        ...part(u.total),
        instances: part(u.instances),
        jobs: part(u.jobs),
        by_gpu_model: u.byGpuModel.map((m) => ({ model: m.model, ...part(m) })),
        gpus_in_use: u.gpusInUse,
        gpu_quota: u.tenant.gpuQuota,
      },
      200,
    );
  },
);
