import { desc, eq, sql } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import type { Executor } from "../../db/client.js";
import { alertEvents, alertRules } from "../../db/schema/index.js";
import { ApiError, notFound } from "../../lib/errors.js";
import { emitEvent } from "../events/emit.js";

export const alertTypes = ["utilization_low", "quota_breach", "health_degraded", "margin_negative"] as const;
export type AlertType = (typeof alertTypes)[number];
export type AlertRuleRow = typeof alertRules.$inferSelect;
export interface AlertScope {
  cluster_id?: number;
  node_id?: number;
  tenant_id?: number;
}

/**
 * What each type's threshold means, and its default:
 * - utilization_low: percent; an allocated GPU whose every sample over the window is below it (default 10 %);
 * - quota_breach: percent of the tenant's GPU quota in use, at or over it (default 100 %);
 * - health_degraded: °C; a GPU whose newest sample is hotter (default 85 °C). Nodes and GPU health need no threshold.
 * - margin_negative: USD; a resold instance charged in the window whose revenue is below its upstream cost by more
 *   than this (default 0: any loss).
 */
export const defaultThreshold: Record<AlertType, number> = {
  utilization_low: 10,
  quota_breach: 100,
  health_degraded: 85,
  margin_negative: 0,
};

export interface AlertRuleInput {
  name: string;
  type: AlertType;
  threshold?: number | null;
  windowSeconds?: number;
  scope?: AlertScope | null;
  enabled?: boolean;
}

export async function createRule(ctx: AppContext, input: AlertRuleInput, executor: Executor = ctx.db) {
  const [row] = await executor
    .insert(alertRules)
    .values({
      name: input.name,
      type: input.type,
      threshold: input.threshold ?? defaultThreshold[input.type],
      windowSeconds: input.windowSeconds ?? 300,
      scope: input.scope ?? {},
      enabled: input.enabled === false ? 0 : 1,
      createdAt: ctx.clock.now(),
    })
    .returning();
  return row;
}

export async function listRules(ctx: AppContext) {
  return ctx.db.select().from(alertRules).orderBy(desc(alertRules.id));
}

export async function getRule(ctx: AppContext, id: number, executor: Executor = ctx.db) {
  const [row] = await executor.select().from(alertRules).where(eq(alertRules.id, id));
  if (!row) throw notFound("alert rule");
  return row;
}

export async function updateRule(ctx: AppContext, id: number, patch: Partial<AlertRuleInput>) {
  if (Object.keys(patch).length === 0) throw new ApiError("BAD_REQUEST", "the request body names no field to change");
  const set: Partial<typeof alertRules.$inferInsert> = {};
  if (patch.name !== undefined) set.name = patch.name;
  if (patch.type !== undefined) set.type = patch.type;
  if (patch.threshold !== undefined) set.threshold = patch.threshold;
  if (patch.windowSeconds !== undefined) set.windowSeconds = patch.windowSeconds;
  if (patch.scope !== undefined) set.scope = patch.scope ?? {};
  if (patch.enabled !== undefined) set.enabled = patch.enabled ? 1 : 0;
  const [row] = await ctx.db.update(alertRules).set(set).where(eq(alertRules.id, id)).returning();
  if (!row) throw notFound("alert rule");
  return row;
}

/** Deleting a rule resolves its open events (each announced once), so no alert stays open without a rule. */
export async function deleteRule(ctx: AppContext, id: number) {
  return ctx.db.transaction(async (tx) => {
    const rule = await getRule(ctx, id, tx);
    await resolveEvents(ctx, tx, rule, null);
    await tx.delete(alertRules).where(eq(alertRules.id, id));
    return rule;
  });
}

/**
 * Resolves the rule's open events whose subject is not in `firing` (all of them when null). The update is
 * conditional on status = 'open', so a subject is resolved, and announced, once even if two passes race.
 */
export async function resolveEvents(ctx: AppContext, tx: Executor, rule: AlertRuleRow, firing: Set<string> | null) {
  const open = await tx
    .select()
    .from(alertEvents)
    .where(sql`${alertEvents.ruleId} = ${rule.id} and ${alertEvents.status} = 'open'`);
  const now = ctx.clock.now();
  let resolved = 0;
  for (const event of open) {
    if (firing?.has(event.subject)) continue;
    const [row] = await tx
      .update(alertEvents)
      .set({ status: "resolved", resolvedAt: now })
      .where(sql`${alertEvents.id} = ${event.id} and ${alertEvents.status} = 'open'`)
      .returning();
    if (!row) continue;
    resolved++;
    await emitEvent(tx, null, "alert.resolved", eventData(rule, row), now);
  }
  return resolved;
}

export function eventData(rule: AlertRuleRow, event: typeof alertEvents.$inferSelect) {
  return {
    alert_event_id: event.id,
    rule_id: rule.id,
    rule_name: rule.name,
    type: rule.type,
    subject: event.subject,
    severity: event.severity,
    message: event.message,
    value: event.value,
    opened_at: event.openedAt.toISOString(),
    resolved_at: event.resolvedAt?.toISOString() ?? null,
  };
}

export async function listEvents(ctx: AppContext, query: { limit: number; status?: string; ruleId?: number }) {
  const rows = await ctx.db
    .select({ event: alertEvents, ruleName: alertRules.name, type: alertRules.type })
    .from(alertEvents)
    .leftJoin(alertRules, eq(alertRules.id, alertEvents.ruleId))
    .where(
      sql`true ${query.status ? sql`and ${alertEvents.status} = ${query.status}` : sql``}
          ${query.ruleId ? sql`and ${alertEvents.ruleId} = ${query.ruleId}` : sql``}`,
    )
    .orderBy(desc(alertEvents.id))
    .limit(query.limit);
  return rows;
}
