import { sql } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import { queryRows } from "../../db/sql.js";
import { toMicros } from "../../lib/money.js";

const DAY_MS = 86_400_000;

/** Usage charges per instance/job/volume and per UTC day over [from, to), from the ledger (positive micros). */
export async function usageReport(ctx: AppContext, tenantId: number, from: Date, to: Date) {
  const window = sql`tenant_id = ${tenantId} and kind = 'usage'
    and created_at >= ${from.toISOString()}::timestamptz and created_at <= ${to.toISOString()}::timestamptz`;
  const bySubject = await queryRows<any>(
    ctx.db,
    sql`select instance_id, job_id, volume_id, sum(-amount_micros) as amount, sum(quantity_seconds) as seconds,
               min(period_start) as first_start, max(period_end) as last_end
          from ledger_entries where ${window}
         group by instance_id, job_id, volume_id order by sum(-amount_micros) desc`,
  );
  const byDay = await queryRows<any>(
    ctx.db,
    sql`select to_char(date_trunc('day', created_at at time zone 'UTC'), 'YYYY-MM-DD') as day,
               sum(-amount_micros) as amount, sum(quantity_seconds) as seconds
          from ledger_entries where ${window} group by 1 order by 1`,
  );
  // Per subject per day: what the console groups usage by (one row per instance and day, not one per meter pass).
  const bySubjectDay = await queryRows<any>(
    ctx.db,
    sql`select to_char(date_trunc('day', l.created_at at time zone 'UTC'), 'YYYY-MM-DD') as day,
               l.instance_id, l.job_id, l.volume_id, min(coalesce(i.name, j.name, v.name)) as name,
               sum(-l.amount_micros) as amount, sum(l.quantity_seconds) as seconds
          from ledger_entries l
          left join instances i on i.id = l.instance_id
          left join jobs j on j.id = l.job_id
          left join volumes v on v.id = l.volume_id
         where l.tenant_id = ${tenantId} and l.kind = 'usage'
           and l.created_at >= ${from.toISOString()}::timestamptz and l.created_at <= ${to.toISOString()}::timestamptz
         group by 1, 2, 3, 4 order by 1, 2 nulls last, 3 nulls last, 4 nulls last`,
  );
  return {
    from,
    to,
    bySubjectDay: bySubjectDay.map((r) => ({
      day: String(r.day),
      kind: (r.instance_id ? "instance" : r.job_id ? "job" : "volume") as "instance" | "job" | "volume",
      id: String(r.instance_id ?? r.job_id ?? r.volume_id),
      name: r.name === null || r.name === undefined ? null : String(r.name),
      amountMicros: toMicros(r.amount),
      seconds: Number(r.seconds ?? 0),
    })),
    items: bySubject.map((r) => ({
      kind: r.instance_id ? "instance" : r.job_id ? "job" : "volume",
      id: String(r.instance_id ?? r.job_id ?? r.volume_id),
      amountMicros: toMicros(r.amount),
      seconds: Number(r.seconds ?? 0),
      firstStart: r.first_start ? new Date(r.first_start) : null,
      lastEnd: r.last_end ? new Date(r.last_end) : null,
    })),
    days: byDay.map((r) => ({ day: String(r.day), amountMicros: toMicros(r.amount), seconds: Number(r.seconds ?? 0) })),
  };
}

export function usageWindow(ctx: AppContext, days: number) {
  const to = ctx.clock.now();
  return { from: new Date(to.getTime() - days * DAY_MS), to };
}

export interface TenantSummary {
  tenantId: number;
  name: string;
  usageMicros: bigint;
  creditsMicros: bigint;
  balanceMicros: bigint;
  invoicedMicros: bigint;
  runningInstances: number;
}

/** Billing summary over the last `days`: per tenant (one tenant, or every tenant for the operator). */
export async function billingSummary(ctx: AppContext, tenantId: number | null, days: number) {
  const { from, to } = usageWindow(ctx, days);
  const rows = await queryRows<any>(
    ctx.db,
    sql`select t.id, t.name,
               coalesce((select sum(-amount_micros) from ledger_entries l where l.tenant_id = t.id and l.kind = 'usage'
                          and l.created_at >= ${from.toISOString()}::timestamptz), 0) as usage,
               coalesce((select sum(amount_micros) from ledger_entries l where l.tenant_id = t.id and l.amount_micros > 0
                          and l.created_at >= ${from.toISOString()}::timestamptz), 0) as credits,
               coalesce((select balance_after_micros from ledger_entries l where l.tenant_id = t.id
                          order by l.id desc limit 1), 0) as balance,
               coalesce((select sum(total_micros) from invoices i where i.tenant_id = t.id and i.status <> 'void'
                          and i.created_at >= ${from.toISOString()}::timestamptz), 0) as invoiced,
               (select count(*) from instances i where i.tenant_id = t.id and i.status = 'running') as running
          from tenants t
         where ${tenantId === null ? sql`true` : sql`t.id = ${tenantId}`}
         order by t.id`,
  );
  const tenants: TenantSummary[] = rows.map((r) => ({
    tenantId: Number(r.id),
    name: String(r.name),
    usageMicros: toMicros(r.usage),
    creditsMicros: toMicros(r.credits),
    balanceMicros: toMicros(r.balance),
    invoicedMicros: toMicros(r.invoiced),
    runningInstances: Number(r.running),
  }));
  const total = (pick: (t: TenantSummary) => bigint) => tenants.reduce((sum, t) => sum + pick(t), 0n);
  return {
    days,
    from,
    to,
    tenants,
    usageMicros: total((t) => t.usageMicros),
    creditsMicros: total((t) => t.creditsMicros),
    invoicedMicros: total((t) => t.invoicedMicros),
  };
}
