import { sql } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import { queryRows } from "../../db/sql.js";
import { toMicros } from "../../lib/money.js";
import { chargeModelSql, windowStart } from "./common.js";

/**
 * Revenue in the window from usage charges (ledger kind 'usage', negated), by UTC day, by tenant and by GPU model
 * (the charged instance's gpu_model, else the job's gpu_type). Every day in the window appears, zero or not.
 */
export async function revenueBreakdown(ctx: AppContext, days: number) {
  const now = ctx.clock.now();
  const since = windowStart(now, days);
  const base = sql`from ledger_entries l left join instances i on i.id = l.instance_id left join jobs j on j.id = l.job_id
    where l.kind = 'usage' and l.created_at >= ${since.toISOString()}::timestamptz`;
  const byDay = await queryRows<{ day: string; amount: string }>(
    ctx.db,
    sql`select to_char(l.created_at at time zone 'UTC', 'YYYY-MM-DD') as day, -sum(l.amount_micros) as amount ${base} group by 1`,
  );
  const tenants = await queryRows<{ tenant_id: number; name: string; amount: string }>(
    ctx.db,
    sql`select l.tenant_id, t.name, -sum(l.amount_micros) as amount
        from ledger_entries l join tenants t on t.id = l.tenant_id
        where l.kind = 'usage' and l.created_at >= ${since.toISOString()}::timestamptz
        group by 1, 2 order by 3 desc, 1`,
  );
  const byModel = await queryRows<{ model: string; amount: string }>(
    ctx.db,
    sql`select ${chargeModelSql} as model, -sum(l.amount_micros) as amount ${base} group by 1 order by 2 desc, 1`,
  );
  // Day × model, for the console's stacked revenue chart.
  const byDayModel = await queryRows<{ day: string; model: string; amount: string }>(
    ctx.db,
    sql`select to_char(l.created_at at time zone 'UTC', 'YYYY-MM-DD') as day, ${chargeModelSql} as model,
               -sum(l.amount_micros) as amount ${base} group by 1, 2 order by 1, 2`,
  );
  const dayMap = new Map(byDay.map((d) => [d.day, toMicros(d.amount)]));
  const series = [];
  const first = Date.UTC(since.getUTCFullYear(), since.getUTCMonth(), since.getUTCDate());
  for (let t = first; t <= now.getTime(); t += 86_400_000) {
    const day = new Date(t).toISOString().slice(0, 10);
    series.push({ day, amountMicros: dayMap.get(day) ?? 0n });
  }
  const total = series.reduce((s, d) => s + d.amountMicros, 0n);
  return {
    days,
    totalMicros: total,
    byDay: series,
    byTenant: tenants.map((t) => ({ tenantId: Number(t.tenant_id), name: t.name, amountMicros: toMicros(t.amount) })),
    byGpuModel: byModel.map((m) => ({ model: m.model, amountMicros: toMicros(m.amount) })),
    byDayGpuModel: byDayModel.map((d) => ({ day: d.day, model: d.model, amountMicros: toMicros(d.amount) })),
  };
}
