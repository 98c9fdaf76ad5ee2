import { createTenant, getTenant, listTenants, updateTenant } from "../../domain/identity/tenants.js";
import { createRoute, operator, tenant, tenantScope } from "../../http/access.js";
import { appCtx, auditActor, router } from "../../http/env.js";
import { commonErrors, envelope, jsonBody, jsonResponse, listEnvelope, ok, okList } from "../../http/envelope.js";
import { PageQuery } from "../../http/pagination.js";
import { ApiError } from "../../lib/errors.js";
import { IdParam, Tenant, TenantBody, TenantPatch, tenantView } from "./schemas.js";

export const tenantRoutes = router();
const tags = ["Tenants"];

tenantRoutes.openapi(
  createRoute({
    method: "post",
    path: "/tenants",
    access: operator("write"),
    tags,
    summary: "Create a tenant with a GPU quota (operator); invoiced unless billing_mode is prepaid",
    request: jsonBody(TenantBody),
    responses: { 201: jsonResponse(envelope(Tenant), "Created"), ...commonErrors },
  }),
  async (c) => {
    const ctx = appCtx(c);
    const body = c.req.valid("json");
    const row = await createTenant(ctx, auditActor(c), {
      name: body.name,
      gpuQuota: body.gpu_quota,
      contactEmail: body.contact_email,
      planTier: body.plan_tier,
      status: body.status,
      billingMode: body.billing_mode,
    });
    return ok(c, Tenant, tenantView(row), 201);
  },
);

tenantRoutes.openapi(
  createRoute({
    method: "get",
    path: "/tenants",
    access: operator("read"),
    tags,
    summary: "List tenants (operator)",
    request: { query: PageQuery },
    responses: { 200: jsonResponse(listEnvelope(Tenant), "Tenants"), ...commonErrors },
  }),
  async (c) => {
    const page = await listTenants(appCtx(c), c.req.valid("query"));
    return okList(c, Tenant, { ...page, items: page.items.map(tenantView) });
  },
);

tenantRoutes.openapi(
  createRoute({
    method: "get",
    path: "/tenants/{id}",
    access: tenant("tenants", "read"),
    tags,
    summary: "Get a tenant (operator, or the tenant itself)",
    request: { params: IdParam },
    responses: { 200: jsonResponse(envelope(Tenant), "Tenant"), ...commonErrors },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const own = tenantScope(c);
    if (own !== null && own !== id) throw new ApiError("NOT_FOUND", "tenant not found");
    return ok(c, Tenant, tenantView(await getTenant(appCtx(c), id)));
  },
);

tenantRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/tenants/{id}",
    access: operator("write"),
    tags,
    summary: "Update a tenant: quota, plan, status (inactive tenants' keys are refused), billing mode",
    request: { params: IdParam, ...jsonBody(TenantPatch) },
    responses: { 200: jsonResponse(envelope(Tenant), "Updated"), ...commonErrors },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const patch = {
      ...(body.name !== undefined && { name: body.name }),
      ...(body.gpu_quota !== undefined && { gpuQuota: body.gpu_quota }),
      ...(body.contact_email !== undefined && { contactEmail: body.contact_email }),
      ...(body.plan_tier !== undefined && { planTier: body.plan_tier }),
      ...(body.status !== undefined && { status: body.status }),
      ...(body.billing_mode !== undefined && { billingMode: body.billing_mode }),
    };
    return ok(c, Tenant, tenantView(await updateTenant(appCtx(c), auditActor(c), c.req.valid("param").id, patch)));
  },
);
