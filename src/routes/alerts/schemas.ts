import { z } from "@hono/zod-openapi";
import type { alertEvents } from "../../db/schema/index.js";
import { type AlertRuleRow, alertTypes } from "../../domain/alerts/rules.js";
import { int32, real, safeName, urlInt } from "../../lib/schemas.js";

const Scope = z
  .object({
    cluster_id: int32().optional(),
    node_id: int32().optional(),
    tenant_id: int32().optional(),
  })
  .strict();

export const AlertRule = z
  .object({
    id: z.number().int(),
    name: z.string(),
    type: z.enum(alertTypes),
    threshold: z.number().nullable(),
    window_seconds: z.number().int(),
    scope: Scope,
    enabled: z.boolean(),
    created_at: z.string(),
  })
  .openapi("AlertRule");

export const ruleView = (r: AlertRuleRow) => ({
  id: r.id,
  name: r.name,
  type: r.type,
  threshold: r.threshold,
  window_seconds: r.windowSeconds,
  scope: r.scope ?? {},
  enabled: r.enabled === 1,
  created_at: r.createdAt.toISOString(),
});

export const AlertRuleBody = z
  .object({
    name: safeName(200),
    type: z.enum(alertTypes),
    threshold: real(0, 100_000).nullable().optional().openapi({
      description:
        "utilization_low: %; quota_breach: % of quota; health_degraded: °C; margin_negative: USD of loss tolerated (0: any)",
    }),
    window_seconds: z
      .number()
      .int()
      .min(30)
      .max(7 * 86400)
      .optional(),
    scope: Scope.nullable().optional(),
    enabled: z.boolean().optional(),
  })
  .strict()
  .openapi("CreateAlertRule");
export const AlertRulePatch = AlertRuleBody.partial().strict().openapi("UpdateAlertRule");

export const AlertEvent = z
  .object({
    id: z.number().int(),
    rule_id: z.number().int(),
    rule_name: z.string().nullable(),
    type: z.string().nullable(),
    subject: z.string(),
    status: z.enum(["open", "resolved"]),
    severity: z.string(),
    message: z.string(),
    value: z.number().nullable(),
    opened_at: z.string(),
    resolved_at: z.string().nullable(),
  })
  .openapi("AlertEvent");

export const eventView = (r: {
  event: typeof alertEvents.$inferSelect;
  ruleName: string | null;
  type: string | null;
}) => ({
  id: r.event.id,
  rule_id: r.event.ruleId,
  rule_name: r.ruleName,
  type: r.type,
  subject: r.event.subject,
  status: r.event.status,
  severity: r.event.severity,
  message: r.event.message,
  value: r.event.value,
  opened_at: r.event.openedAt.toISOString(),
  resolved_at: r.event.resolvedAt?.toISOString() ?? null,
});

export const EventsQuery = z.object({
  limit: urlInt(1, 100).default(50),
  status: z.enum(["open", "resolved"]).optional(),
  rule_id: urlInt().optional(),
});
