import { z } from "@hono/zod-openapi";
import { isOperator } from "../../domain/identity/principal.js";
import { getTenant } from "../../domain/identity/tenants.js";
import { anyKey, createRoute } from "../../http/access.js";
import { appCtx, principal, router } from "../../http/env.js";
import { commonErrors, envelope, jsonResponse, ok } from "../../http/envelope.js";
import { Tenant, tenantView } from "./schemas.js";

const Whoami = z
  .object({
    key_id: z.string(),
    operator: z.boolean().openapi({ description: "True for a key with no tenant (it runs the fleet)" }),
    tenant_id: z.number().int().nullable(),
    node_id: z.number().int().nullable(),
    // A union, not Tenant.nullable(): that renders as allOf [Tenant, null-or-object], which refuses null.
    tenant: z.union([Tenant, z.null()]),
    scopes: z.array(z.string()),
    permissions: z.array(z.string()),
  })
  .openapi("Whoami");

/** Who the presented key is: lets the web console (and scripts) pick customer or operator views. */
export const whoamiRoutes = router();

whoamiRoutes.openapi(
  createRoute({
    method: "get",
    path: "/auth/whoami",
    access: anyKey,
    tags: ["Auth"],
    summary: "The caller: its tenant (null for an operator), scopes and permissions",
    responses: { 200: jsonResponse(envelope(Whoami), "The caller"), ...commonErrors },
  }),
  async (c) => {
    const caller = principal(c);
    const tenant = caller.tenantId === null ? null : tenantView(await getTenant(appCtx(c), caller.tenantId));
    return ok(c, Whoami, {
      key_id: caller.keyId,
      operator: isOperator(caller),
      tenant_id: caller.tenantId,
      node_id: caller.nodeId,
      tenant,
      scopes: caller.scopes,
      permissions: caller.permissions,
    });
  },
);
