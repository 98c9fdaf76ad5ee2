import { sql } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import type { Executor } from "../../db/client.js";
import { alertEvents, alertRules } from "../../db/schema/index.js";
import { queryRows } from "../../db/sql.js";
import { microsToUsd } from "../../lib/money.js";
import { instanceMargins } from "../dashboard/margins.js";
import { emitEvent } from "../events/emit.js";
import { eachIsolated } from "../loops/isolate.js";
import { tenantGpuUsage } from "../quota.js";
import { type AlertRuleRow, type AlertScope, defaultThreshold, eventData, resolveEvents } from "./rules.js";

/** A subject a rule fires on now: "gpu:12", "node:3", "tenant:7". */
export interface Firing {
  subject: string;
  message: string;
  value: number | null;
  severity: "warning" | "critical";
}

/**
 * One evaluation pass over every rule. A firing subject without an open event opens one (the partial unique index
 * alert_events_one_open makes a second open row impossible, so a repeat pass or a second replica opens nothing new);
 * an open event whose subject no longer fires is resolved once. Each opening and resolution is emitted as an
 * operator webhook event in the same transaction.
 */
export async function evaluateAlerts(ctx: AppContext) {
  const rules = await ctx.db.select().from(alertRules);
  let opened = 0;
  let resolved = 0;
  // One rule that cannot be evaluated (a scope no query can take) is logged and counted; the others still run.
  const { failed } = await eachIsolated(
    ctx,
    "alerts",
    rules,
    (rule) => rule.id,
    async (rule) => {
      const firing = rule.enabled ? await evaluateRule(ctx, rule) : [];
      const result = await ctx.db.transaction(async (tx) => {
        let n = 0;
        for (const f of firing) if (await openEvent(ctx, tx, rule, f)) n++;
        const r = await resolveEvents(ctx, tx, rule, new Set(firing.map((f) => f.subject)));
        return { opened: n, resolved: r };
      });
      opened += result.opened;
      resolved += result.resolved;
    },
  );
  return { rules: rules.length, opened, resolved, failed };
}

async function openEvent(ctx: AppContext, tx: Executor, rule: AlertRuleRow, f: Firing): Promise<boolean> {
  const now = ctx.clock.now();
  const [row] = await tx
    .insert(alertEvents)
    .values({
      ruleId: rule.id,
      subject: f.subject,
      status: "open",
      severity: f.severity,
      message: f.message,
      value: f.value,
      openedAt: now,
    })
    .onConflictDoNothing({ target: [alertEvents.ruleId, alertEvents.subject], where: sql`status = 'open'` })
    .returning();
  if (!row) return false;
  await emitEvent(tx, null, "alert.opened", eventData(rule, row), now);
  return true;
}

export async function evaluateRule(ctx: AppContext, rule: AlertRuleRow): Promise<Firing[]> {
  const scope = (rule.scope ?? {}) as AlertScope;
  const threshold = rule.threshold ?? defaultThreshold[rule.type as keyof typeof defaultThreshold] ?? 0;
  const since = new Date(ctx.clock.now().getTime() - rule.windowSeconds * 1000).toISOString();
  const where = scopeSql(scope);
  switch (rule.type) {
    case "utilization_low":
      return utilizationLow(ctx, threshold, since, rule.windowSeconds, where);
    case "quota_breach":
      return quotaBreach(ctx, threshold, scope);
    case "health_degraded":
      return healthDegraded(ctx, threshold, since, rule.windowSeconds, where);
    case "margin_negative":
      return marginNegative(ctx, threshold, new Date(since), scope);
    default:
      return [];
  }
}

/** Scope as SQL over a GPU `g`, its node `n` and its allocation `a`. */
function scopeSql(scope: AlertScope) {
  return sql`${scope.cluster_id ? sql`and n.cluster_id = ${scope.cluster_id}` : sql``}
    ${scope.node_id ? sql`and n.id = ${scope.node_id}` : sql``}
    ${scope.tenant_id ? sql`and a.tenant_id = ${scope.tenant_id}` : sql``}`;
}

/**
 * utilization_low: a GPU allocated for at least the whole window (to a paying workload or not), with samples in the
 * window, every one below the threshold. No samples means nothing to judge: health_degraded covers silent nodes.
 */
async function utilizationLow(
  ctx: AppContext,
  threshold: number,
  since: string,
  windowS: number,
  where: ReturnType<typeof sql>,
) {
  const rows = await queryRows<{ gpu_id: number; peak: number; n: number }>(
    ctx.db,
    sql`select a.gpu_id, max(m.utilization_pct) as peak, count(m.*)::int as n
        from gpu_allocations a join gpus g on g.id = a.gpu_id join nodes n on n.id = g.node_id
        join gpu_metrics m on m.gpu_id = a.gpu_id and m.ts >= ${since}::timestamptz
        where a.created_at <= ${since}::timestamptz ${where}
        group by a.gpu_id having max(m.utilization_pct) < ${threshold}`,
  );
  return rows.map((r) => ({
    subject: `gpu:${r.gpu_id}`,
    message: `GPU ${r.gpu_id} is allocated but its utilization stayed under ${threshold}% for ${windowS}s (peak ${round(r.peak)}%)`,
    value: round(r.peak),
    severity: "warning" as const,
  }));
}

/**
 * quota_breach: a tenant whose GPUs in use (instances and jobs, tenantGpuUsage) reach threshold % of its quota, or
 * that has jobs blocked on quota (status 'blocked' with a block_reason that mentions quota).
 */
async function quotaBreach(ctx: AppContext, threshold: number, scope: AlertScope) {
  const candidates = await queryRows<{ id: number; gpu_quota: number; blocked: number }>(
    ctx.db,
    sql`select t.id, t.gpu_quota,
          (select count(*)::int from jobs j where j.tenant_id = t.id and j.status = 'blocked'
             and j.block_reason ilike '%quota%') as blocked
        from tenants t
        where t.status = 'active' ${scope.tenant_id ? sql`and t.id = ${scope.tenant_id}` : sql``}
          and (exists (select 1 from instances i where i.tenant_id = t.id and i.status in ('ordered','provisioning','running','deleting'))
            or exists (select 1 from jobs j where j.tenant_id = t.id and j.status in ('scheduled','running','blocked')))`,
  );
  const firing: Firing[] = [];
  for (const t of candidates) {
    const used = await tenantGpuUsage(ctx.db, t.id);
    const pct = t.gpu_quota > 0 ? (used / t.gpu_quota) * 100 : 0;
    const blocked = Number(t.blocked);
    if (pct < threshold && blocked === 0) continue;
    const parts = [];
    if (pct >= threshold) parts.push(`uses ${used} of its ${t.gpu_quota} GPU quota (${round(pct)}%)`);
    if (blocked) parts.push(`has ${blocked} job${blocked === 1 ? "" : "s"} blocked on quota`);
    firing.push({
      subject: `tenant:${t.id}`,
      message: `Tenant ${t.id} ${parts.join(" and ")}`,
      value: round(pct),
      severity: "warning",
    });
  }
  return firing;
}

/**
 * health_degraded: a node that is down or whose last heartbeat is older than the window (nodes that never sent one
 * are not judged: they may have no agent); a GPU whose health is degraded or unhealthy, or whose newest sample
 * (within the window) is hotter than the threshold.
 */
async function healthDegraded(
  ctx: AppContext,
  threshold: number,
  since: string,
  windowS: number,
  where: ReturnType<typeof sql>,
) {
  const nodes = await queryRows<{ id: number; hostname: string; status: string; last_heartbeat_at: Date | null }>(
    ctx.db,
    sql`select n.id, n.hostname, n.status, n.last_heartbeat_at from nodes n
        left join (select null::int as tenant_id) a on true
        where (n.status = 'down' or (n.last_heartbeat_at is not null and n.last_heartbeat_at < ${since}::timestamptz))
        ${where}`,
  );
  const gpus = await queryRows<{
    id: number;
    health: string;
    health_reason: string | null;
    temperature_c: number | null;
  }>(
    ctx.db,
    sql`select g.id, g.health, g.health_reason, m.temperature_c from gpus g join nodes n on n.id = g.node_id
        left join gpu_allocations a on a.gpu_id = g.id
        left join gpu_latest_metrics m on m.gpu_id = g.id and m.ts >= ${since}::timestamptz
        where (g.health in ('degraded', 'unhealthy') or m.temperature_c > ${threshold}) ${where}`,
  );
  return [
    ...nodes.map((n) => ({
      subject: `node:${n.id}`,
      message:
        n.status === "down"
          ? `Node ${n.hostname} is down`
          : `Node ${n.hostname} has sent no heartbeat for more than ${windowS}s`,
      value: n.last_heartbeat_at
        ? Math.round((Date.parse(since) - new Date(n.last_heartbeat_at).getTime()) / 1000) + windowS
        : null,
      severity: "critical" as const,
    })),
    ...gpus.map((g) => {
      const hot = g.temperature_c !== null && g.temperature_c > threshold;
      const reason =
        g.health !== "healthy" ? `health is ${g.health}${g.health_reason ? ` (${g.health_reason})` : ""}` : "";
      const heat = hot ? `temperature ${round(g.temperature_c!)}°C is over ${threshold}°C` : "";
      return {
        subject: `gpu:${g.id}`,
        message: `GPU ${g.id}: ${[reason, heat].filter(Boolean).join("; ")}`,
        value: g.temperature_c === null ? null : round(g.temperature_c),
        severity: (g.health === "unhealthy" ? "critical" : "warning") as "critical" | "warning",
      };
    }),
  ];
}

/**
 * margin_negative: a resold instance charged in the window whose customer revenue is below what its cloud bills for
 * it (the ledger's upstream cost) by more than `threshold` USD: sold below cost (an operator's allow_below_cost
 * price, a stale price) or billed for less time than the cloud bills.
 */
async function marginNegative(ctx: AppContext, threshold: number, since: Date, scope: AlertScope) {
  const floor = -BigInt(Math.round(threshold * 1_000_000));
  const margins = await instanceMargins(ctx.db, since);
  return margins
    .filter((m) => m.marginMicros < 0n && m.marginMicros < floor)
    .filter((m) => !scope.tenant_id || m.tenantId === scope.tenant_id)
    .map((m) => ({
      subject: `instance:${m.instanceId}`,
      message: `Instance ${m.instanceId} on ${m.provider} earned ${microsToUsd(m.revenueMicros)} USD against ${microsToUsd(m.upstreamCostMicros)} USD its cloud bills: margin ${microsToUsd(m.marginMicros)} USD`,
      value: Number(microsToUsd(m.marginMicros)),
      severity: "critical" as const,
    }));
}

const round = (v: number) => Math.round(Number(v) * 100) / 100;
