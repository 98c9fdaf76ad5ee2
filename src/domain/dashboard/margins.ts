import { sql } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import { queryRows } from "../../db/sql.js";
import { toMicros } from "../../lib/money.js";
import { windowStart } from "./common.js";

/**
 * The operator's margin on resold clouds in the window, per provider: what customers were charged for instances on
 * it (usage ledger entries) less what the upstream charges for the same seconds (the offer's upstream price captured
 * at launch). Exact integer micro-dollars; each charge's cost rounded half up to the micro-dollar.
 */
export async function resaleMargins(ctx: AppContext, days: number) {
  const since = windowStart(ctx.clock.now(), days);
  const rows = await queryRows<{ provider: string; instances: string; seconds: string; revenue: string; cost: string }>(
    ctx.db,
    sql`select i.provider,
               count(distinct i.id) as instances,
               coalesce(sum(l.quantity_seconds), 0) as seconds,
               -sum(l.amount_micros) as revenue,
               sum((coalesce(l.quantity_seconds, 0)::bigint * u.upstream_cost_per_hour_micros + 1800) / 3600) as cost
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
    revenueMicros: sum((p) => p.revenueMicros),
    upstreamCostMicros: sum((p) => p.upstreamCostMicros),
    marginMicros: sum((p) => p.marginMicros),
  };
}
