import { z } from "@hono/zod-openapi";
import { checkKeyGrant, createKeyAudited, listKeys, revokeKey, sessionOrigin } from "../../domain/identity/keys.js";
import { isOperator } from "../../domain/identity/principal.js";
import { getTenant } from "../../domain/identity/tenants.js";
import { createRoute, listTenant, tenant, tenantScope } from "../../http/access.js";
import { appCtx, auditActor, principal, router } from "../../http/env.js";
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
import { ApiError } from "../../lib/errors.js";
import { urlInt } from "../../lib/schemas.js";
import { ApiKey, CreatedApiKey, CreateKeyBody, keyView } from "./schemas.js";

export const apiKeyRoutes = router();
const tags = ["API Keys"];
const KeyId = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "id", in: "path" } }),
});

apiKeyRoutes.openapi(
  createRoute({
    method: "post",
    path: "/api-keys",
    access: tenant("api-keys", "write"),
    tags,
    summary: "Create an API key; the secret (`data.key`) is returned once",
    request: jsonBody(CreateKeyBody),
    responses: { 201: jsonResponse(envelope(CreatedApiKey), "Created"), ...commonErrors },
  }),
  async (c) => {
    const ctx = appCtx(c);
    const caller = principal(c);
    const body = c.req.valid("json");
    const tenantId = isOperator(caller) ? (body.tenant_id ?? null) : (body.tenant_id ?? caller.tenantId);
    const input = {
      label: body.label,
      tenantId,
      permissions: body.permissions,
      scopes: body.scopes,
      expiresAt: body.expires_at ? new Date(body.expires_at) : null,
    };
    checkKeyGrant(caller, input);
    if (input.expiresAt && input.expiresAt <= ctx.clock.now())
      throw new ApiError("BAD_REQUEST", "expires_at must be in the future");
    if (tenantId !== null) await getTenant(ctx, tenantId);
    const created = await createKeyAudited(ctx, auditActor(c), { ...input, ...(await sessionOrigin(ctx, caller)) });
    return ok(c, CreatedApiKey, keyView(created), 201);
  },
);

apiKeyRoutes.openapi(
  createRoute({
    method: "get",
    path: "/api-keys",
    access: tenant("api-keys", "read"),
    tags,
    summary: "List active API keys (a tenant's own; an operator's, or one tenant's with tenant_id)",
    request: { query: PageQuery.extend({ tenant_id: urlInt().optional() }) },
    responses: { 200: jsonResponse(listEnvelope(ApiKey), "API keys"), ...commonErrors },
  }),
  async (c) => {
    const caller = principal(c);
    const query = c.req.valid("query");
    const tenantId = listTenant(c, query.tenant_id);
    if (!isOperator(caller) && query.tenant_id !== undefined && query.tenant_id !== caller.tenantId) {
      throw new ApiError("NOT_FOUND", "tenant not found");
    }
    const page = await listKeys(appCtx(c), tenantId, query);
    return okList(c, ApiKey, { ...page, items: page.items.map(keyView) });
  },
);

apiKeyRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/api-keys/{id}",
    access: tenant("api-keys", "write"),
    tags,
    summary: "Revoke an API key (takes effect at once)",
    request: { params: KeyId },
    responses: { 200: jsonResponse(envelope(ApiKey), "Revoked"), ...commonErrors, 409: errorResponses[409] },
  }),
  async (c) => {
    const row = await revokeKey(appCtx(c), c.req.valid("param").id, principal(c), tenantScope(c), auditActor(c));
    return ok(c, ApiKey, keyView(row), 200);
  },
);
