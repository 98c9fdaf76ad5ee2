import { z } from "@hono/zod-openapi";
import { actorKinds, type Snapshot } from "../../domain/audit/audit.js";
import { type AuditRow, listAuditLog } from "../../domain/audit/list.js";
import { createRoute, listTenant, tenant } from "../../http/access.js";
import { appCtx, principal, router } from "../../http/env.js";
import { commonErrors, jsonResponse, listEnvelope, okList } from "../../http/envelope.js";
import { PageQuery } from "../../http/pagination.js";
import { isoDate, urlInt } from "../../lib/schemas.js";

export const auditRoutes = router();
const tags = ["Audit"];

const AuditEntry = z
  .object({
    id: z.number().int(),
    created_at: z.string(),
    tenant_id: z.number().int().nullable(),
    actor_kind: z.enum(actorKinds),
    actor_key_id: z.string().nullable().openapi({
      description:
        "The key or console session that acted; null for the system, anonymous callers, and an operator's key when a tenant reads",
    }),
    request_id: z.string().nullable(),
    action: z.string().openapi({ example: "api_key.create" }),
    target: z.string().openapi({ example: "api_key:key_01J…" }),
    before: z.record(z.string(), z.unknown()).nullable(),
    after: z.record(z.string(), z.unknown()).nullable(),
  })
  .openapi("AuditEntry");

const AuditQuery = PageQuery.extend({
  tenant_id: urlInt().optional().openapi({ description: "Operator keys: one tenant's entries" }),
  actor: z.string().min(1).max(64).optional().openapi({ description: "The acting key or session id" }),
  action: z
    .string()
    .regex(/^[a-z_]+(\.[a-z_]+|\.\*)?$/, "action must look like 'tenant.update' or 'api_key.*'")
    .max(64)
    .optional(),
  target: z.string().min(1).max(200).optional().openapi({ description: "e.g. tenant:4, node:7" }),
  since: isoDate().optional().openapi({ description: "Entries at or after this time" }),
  until: isoDate().optional().openapi({ description: "Entries before this time" }),
});

const view = (r: AuditRow, operatorReads: boolean) => ({
  id: r.id,
  created_at: r.createdAt.toISOString(),
  tenant_id: r.tenantId,
  actor_kind: r.actorKind as (typeof actorKinds)[number],
  // A tenant sees that the operator acted, not which operator key.
  actor_key_id: operatorReads || r.actorKind !== "operator" ? r.actorKeyId : null,
  request_id: r.requestId,
  action: r.action,
  target: r.target,
  before: (r.before as Snapshot | null) ?? null,
  after: (r.after as Snapshot | null) ?? null,
});

auditRoutes.openapi(
  createRoute({
    method: "get",
    path: "/audit-log",
    access: tenant("tenants", "read"),
    tags,
    summary:
      "The audit trail, newest first: who changed keys, sessions, credits, prices, markups, tenants, quotas, nodes, provider settings, images, webhooks (operator: every entry, or tenant_id's; a tenant: its own tenant's)",
    request: { query: AuditQuery },
    responses: { 200: jsonResponse(listEnvelope(AuditEntry), "Audit entries"), ...commonErrors },
  }),
  async (c) => {
    const query = c.req.valid("query");
    const tenantId = listTenant(c, query.tenant_id);
    const page = await listAuditLog(
      appCtx(c),
      {
        tenantId,
        actorKeyId: query.actor,
        action: query.action,
        target: query.target,
        since: query.since ? new Date(query.since) : undefined,
        until: query.until ? new Date(query.until) : undefined,
      },
      query,
    );
    const operatorReads = principal(c).tenantId === null;
    return okList(c, AuditEntry, { ...page, items: page.items.map((r) => view(r, operatorReads)) });
  },
);
