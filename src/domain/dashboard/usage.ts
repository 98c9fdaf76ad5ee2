import { sql } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import { queryRows } from "../../db/sql.js";
import { toMicros } from "../../lib/money.js";
import { getTenant } from "../identity/tenants.js";
import { tenantGpuUsage } from "../quota.js";
import { chargeModelSql, windowStart } from "./common.js";

/**
 * A tenant's GPU-hours and spend over the window, from its usage charges: each charge covers quantity_seconds of
 * one instance or job, which held gpu_count GPUs, so GPU-seconds = quantity_seconds × gpu_count. Spend is the
 * charges' negated sum. Split by workload kind and GPU model; with the GPUs it holds now against its quota.
 */
export async function tenantUsage(ctx: AppContext, tenantId: number, days: number) {
  const tenant = await getTenant(ctx, tenantId);
  const since = windowStart(ctx.clock.now(), days);
  const rows = await queryRows<{ kind: string; model: string; gpu_seconds: string; amount: string; charges: number }>(
    ctx.db,
    sql`select case when l.job_id is not null then 'jobs' else 'instances' end as kind, ${chargeModelSql} as model,
          coalesce(sum(coalesce(l.quantity_seconds, 0)::bigint * coalesce(i.gpu_count, j.gpu_count, 0)), 0) as gpu_seconds,
          -coalesce(sum(l.amount_micros), 0) as amount, count(*)::int as charges
        from ledger_entries l left join instances i on i.id = l.instance_id left join jobs j on j.id = l.job_id
        where l.tenant_id = ${tenantId} and l.kind = 'usage' and l.created_at >= ${since.toISOString()}::timestamptz
        group by 1, 2 order by 1, 2`,
  );
  const sum = (filter: (r: (typeof rows)[number]) => boolean) => ({
    gpuSeconds: rows.filter(filter).reduce((s, r) => s + Number(r.gpu_seconds), 0),
    amountMicros: rows.filter(filter).reduce((s, r) => s + toMicros(r.amount), 0n),
  });
  const models = new Map<string, { gpuSeconds: number; amountMicros: bigint }>();
  for (const r of rows) {
    const m = models.get(r.model) ?? { gpuSeconds: 0, amountMicros: 0n };
    m.gpuSeconds += Number(r.gpu_seconds);
    m.amountMicros += toMicros(r.amount);
    models.set(r.model, m);
  }
  return {
    tenant,
    days,
    since,
    total: sum(() => true),
    instances: sum((r) => r.kind === "instances"),
    jobs: sum((r) => r.kind === "jobs"),
    byGpuModel: [...models.entries()].map(([model, m]) => ({ model, ...m })),
    gpusInUse: await tenantGpuUsage(ctx.db, tenantId),
  };
}
