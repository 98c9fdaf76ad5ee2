import { z } from "@hono/zod-openapi";
import { listSessions, revokeSession } from "../../domain/identity/keys.js";
import { createRoute, listTenant, tenant, tenantScope } from "../../http/access.js";
import { appCtx, auditActor, router } from "../../http/env.js";
import { commonErrors, envelope, jsonResponse, listEnvelope, ok, okList } from "../../http/envelope.js";
import { PageQuery } from "../../http/pagination.js";
import { urlInt } from "../../lib/schemas.js";
import { RevokeMintedQuery, Session, sessionView } from "./schemas.js";

/** Console sessions (POST /auth/login): listed and revocable by their tenant and by the operator. */
export const sessionRoutes = router();
const tags = ["Sessions"];
const SessionId = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "id", in: "path" } }),
});
const RevokedSession = Session.extend({
  revoked_keys: z.number().int().openapi({ description: "API keys created from the session revoked with it" }),
}).openapi("RevokedSession");

sessionRoutes.openapi(
  createRoute({
    method: "get",
    path: "/sessions",
    access: tenant("api-keys", "read"),
    tags,
    summary: "List open console sessions, newest first (a tenant's own; an operator's: every tenant's, or tenant_id's)",
    request: {
      query: PageQuery.extend({
        tenant_id: urlInt().optional().openapi({ description: "Operator keys: one tenant's" }),
      }),
    },
    responses: { 200: jsonResponse(listEnvelope(Session), "Sessions"), ...commonErrors },
  }),
  async (c) => {
    const query = c.req.valid("query");
    const page = await listSessions(appCtx(c), listTenant(c, query.tenant_id), query);
    return okList(c, Session, { ...page, items: page.items.map(sessionView) });
  },
);

sessionRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/sessions/{id}",
    access: tenant("api-keys", "write"),
    tags,
    summary:
      "Revoke a console session at once; revoke_minted=true also revokes the API keys created from it (another tenant's session is 404)",
    request: { params: SessionId, query: RevokeMintedQuery },
    responses: { 200: jsonResponse(envelope(RevokedSession), "Revoked"), ...commonErrors },
  }),
  async (c) => {
    const { session, revokedKeys } = await revokeSession(
      appCtx(c),
      c.req.valid("param").id,
      tenantScope(c),
      c.req.valid("query").revoke_minted === "true",
      auditActor(c),
    );
    return ok(c, RevokedSession, { ...sessionView(session), revoked_keys: revokedKeys }, 200);
  },
);
