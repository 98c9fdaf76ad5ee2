import { sql } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import type { Executor } from "../../db/client.js";
import { queryRows } from "../../db/sql.js";
import { toMicros } from "../../lib/money.js";
import { windowStart } from "./common.js";

/**
 * What each usage charge of a resold instance cost upstream: the ledger's upstream_cost_micros (its cloud's billing
 * rule at the launch price, written by the meter beside the revenue); for charges written before it was kept, the same
 * seconds at the launch price, rounded half up.
 */
const costSql = sql`coalesce(l.upstream_cost_micros,
  (coalesce(l.quantity_seconds, 0)::bigint * u.upstream_cost_per_hour_micros + 1800) / 3600)`;

export interface InstanceMargin {
  instanceId: string;
  provider: string;
  tenantId: number;
  seconds: number;
  revenueMicros: bigint;
  upstreamCostMicros: bigint;
  marginMicros: bigint;
}

/**
 * Per resold instance with a usage charge in the window: what its customer was charged and what its cloud bills for
 * the same time (all its charges, not only the window's, so a margin is the instance's whole one). Ordered worst
 * margin first.
 */
export async function instanceMargins(db: Executor, since: Date): Promise<InstanceMargin[]> {
  const rows = await queryRows<{
    instance_id: string;
    provider: string;
    tenant_id: number;
    seconds: string;
    revenue: string;
    cost: string;
  }>(
    db,
    sql`select i.id as instance_id, i.provider, i.tenant_id,
               coalesce(sum(l.quantity_seconds), 0) as seconds,
               -sum(l.amount_micros) as revenue,
               sum(${costSql}) as cost
        from ledger_entries l
        join instances i on i.id = l.instance_id
        join upstream_launches u on u.instance_id = i.id and u.upstream_cost_per_hour_micros is not null
        where l.kind = 'usage' and l.instance_id in (
          select instance_id from ledger_entries
           where kind = 'usage' and instance_id is not null and created_at >= ${since.toISOString()}::timestamptz)
        group by 1, 2, 3`,
  );
  return rows
    .map((r) => {
      const revenueMicros = toMicros(r.revenue);
      const upstreamCostMicros = toMicros(r.cost);
      return {
        instanceId: r.instance_id,
        provider: r.provider,
        tenantId: Number(r.tenant_id),
        seconds: Number(r.seconds),
        revenueMicros,
        upstreamCostMicros,
        marginMicros: revenueMicros - upstreamCostMicros,
      };
    })
    .sort((a, b) => (a.marginMicros < b.marginMicros ? -1 : a.marginMicros > b.marginMicros ? 1 : 0));
}

/**
 * The operator's margin on resold clouds in the window, per provider and per instance: what customers were charged
 * for instances on it (usage ledger entries) less what the upstream bills for the same seconds (the ledger's upstream
 * cost of each charge). Exact integer micro-dollars.
 */
export async function resaleMargins(ctx: AppContext, days: number) {
  const since = windowStart(ctx.clock.now(), days);
  const rows = await queryRows<{ provider: string; instances: string; seconds: string; revenue: string; cost: string }>(
    ctx.db,
    sql`select i.provider,
               count(distinct i.id) as instances,
               coalesce(sum(l.quantity_seconds), 0) as seconds,
               -sum(l.amount_micros) as revenue,
               sum(${costSql}) as cost
        from ledger_entries l
        join instances i on i.id = l.instance_id
        join upstream_launches u on u.instance_id = i.id and u.upstream_cost_per_hour_micros is not null
        where l.kind = 'usage' and l.created_at >= ${since.toISOString()}::timestamptz
        group by 1 order by 1`,
  );
  const providers = rows.map((r) => {
    const revenueMicros = toMicros(r.revenue);
    const costMicros = toMicros(r.cost);
    return {
      provider: r.provider,
      instances: Number(r.instances),
      seconds: Number(r.seconds),
      revenueMicros,
      upstreamCostMicros: costMicros,
      marginMicros: revenueMicros - costMicros,
    };
  });
  const sum = (pick: (p: (typeof providers)[number]) => bigint) => providers.reduce((s, p) => s + pick(p), 0n);
  return {
    days,
    providers,
    instances: await instanceMargins(ctx.db, since),
    revenueMicros: sum((p) => p.revenueMicros),
    upstreamCostMicros: sum((p) => p.upstreamCostMicros),
    marginMicros: sum((p) => p.marginMicros),
  };
}
