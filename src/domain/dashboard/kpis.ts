import { sql } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import { queryRows } from "../../db/sql.js";
import { toMicros } from "../../lib/money.js";
import { gpuStateSql } from "../fleet/state.js";
import { negativeBalancesSql, windowStart } from "./common.js";

/** Newest samples older than this do not count toward fleet utilization (a silent GPU is not "0 % busy"). */
const FRESH_MS = 10 * 60_000;

/**
 * The executive KPIs. Revenue is what usage charges took in the window (usage ledger entries are negative, so it is
 * their negated sum); balance owed is what invoiced tenants owe: the sum of their balances below zero (usage charged
 * and not yet paid by invoice). A prepaid tenant below zero is not counted here: that is leakage (leakage.ts).
 */
export async function dashboardKpis(ctx: AppContext, days: number) {
  const now = ctx.clock.now();
  const since = windowStart(now, days).toISOString();
  const fresh = new Date(now.getTime() - FRESH_MS).toISOString();
  const [gpus] = await queryRows<Record<string, number>>(
    ctx.db,
    sql`select count(*)::int as total,
          count(*) filter (where s.state = 'allocated')::int as allocated,
          count(*) filter (where s.state = 'idle')::int as idle,
          count(*) filter (where s.state = 'unhealthy')::int as unhealthy,
          count(*) filter (where s.state = 'draining')::int as draining,
          avg(s.utilization_pct) filter (where s.ts >= ${fresh}::timestamptz) as utilization
        from (select ${gpuStateSql} as state, m.utilization_pct, m.ts from gpus g join nodes n on n.id = g.node_id
              left join gpu_allocations a on a.gpu_id = g.id left join gpu_latest_metrics m on m.gpu_id = g.id) s`,
  );
  const [work] = await queryRows<Record<string, number>>(
    ctx.db,
    sql`select (select count(*)::int from instances where status = 'running') as running_instances,
          (select count(*)::int from jobs where status = 'running') as running_jobs,
          (select count(*)::int from jobs where status = 'queued') as queued_jobs,
          (select count(*)::int from jobs where status = 'blocked') as blocked_jobs,
          (select count(*)::int from tenants) as tenants,
          (select count(*)::int from tenants where status = 'active') as active_tenants,
          (select count(*)::int from clusters) as clusters,
          (select count(*)::int from nodes) as nodes`,
  );
  const [money] = await queryRows<{ revenue: string | null; owed: string | null }>(
    ctx.db,
    sql`select (select -coalesce(sum(amount_micros), 0) from ledger_entries
                where kind = 'usage' and created_at >= ${since}::timestamptz) as revenue,
          (select coalesce(sum(owed), 0) from (${negativeBalancesSql("invoiced")}) b) as owed`,
  );
  return {
    days,
    gpus: {
      total: Number(gpus.total),
      allocated: Number(gpus.allocated),
      idle: Number(gpus.idle),
      unhealthy: Number(gpus.unhealthy),
      draining: Number(gpus.draining),
    },
    fleetUtilizationPct: gpus.utilization === null ? null : Math.round(Number(gpus.utilization) * 100) / 100,
    allocationPct: Number(gpus.total) ? Math.round((Number(gpus.allocated) / Number(gpus.total)) * 10000) / 100 : 0,
    work: Object.fromEntries(Object.entries(work).map(([k, v]) => [k, Number(v)])),
    revenueMicros: toMicros(money.revenue),
    balanceOwedMicros: toMicros(money.owed),
  };
}

/** Per cluster, and per node within it: GPU counts by state and mean utilization of fresh samples. */
export async function fleetOverview(ctx: AppContext) {
  const fresh = new Date(ctx.clock.now().getTime() - FRESH_MS).toISOString();
  const rows = await queryRows<Record<string, any>>(
    ctx.db,
    sql`select c.id as cluster_id, c.name as cluster_name, c.region, n.id as node_id, n.hostname, n.status,
          n.last_heartbeat_at, count(g.id)::int as total,
          count(g.id) filter (where s.state = 'allocated')::int as allocated,
          count(g.id) filter (where s.state = 'idle')::int as idle,
          count(g.id) filter (where s.state = 'unhealthy')::int as unhealthy,
          count(g.id) filter (where s.state = 'draining')::int as draining,
          avg(m.utilization_pct) filter (where m.ts >= ${fresh}::timestamptz) as utilization
        from clusters c
        left join nodes n on n.cluster_id = c.id
        left join gpus g on g.node_id = n.id
        left join gpu_allocations a on a.gpu_id = g.id
        left join gpu_latest_metrics m on m.gpu_id = g.id
        left join lateral (select ${gpuStateSql} as state) s on g.id is not null
        group by c.id, n.id order by c.id, n.id`,
  );
  const clusters = new Map<number, any>();
  const counts = () => ({ total: 0, allocated: 0, idle: 0, unhealthy: 0, draining: 0 });
  for (const r of rows) {
    let c = clusters.get(r.cluster_id);
    if (!c) {
      c = {
        id: r.cluster_id,
        name: r.cluster_name,
        region: r.region,
        gpus: counts(),
        nodes: [],
        util: [] as number[][],
      };
      clusters.set(r.cluster_id, c);
    }
    if (r.node_id === null) continue;
    const gpus = {
      total: r.total,
      allocated: r.allocated,
      idle: r.idle,
      unhealthy: r.unhealthy,
      draining: r.draining,
    };
    for (const k of Object.keys(gpus) as (keyof typeof gpus)[]) c.gpus[k] += Number(gpus[k]);
    const utilization = r.utilization === null ? null : Math.round(Number(r.utilization) * 100) / 100;
    if (utilization !== null) c.util.push([utilization, Number(r.total)]);
    c.nodes.push({
      id: r.node_id,
      hostname: r.hostname,
      status: r.status,
      last_heartbeat_at: r.last_heartbeat_at ? new Date(r.last_heartbeat_at).toISOString() : null,
      gpus,
      utilization_pct: utilization,
    });
  }
  return [...clusters.values()].map(({ util, ...c }) => {
    const weight = util.reduce((s: number, [, w]: number[]) => s + w, 0);
    const avg = weight ? util.reduce((s: number, [u, w]: number[]) => s + u * w, 0) / weight : null;
    return { ...c, node_count: c.nodes.length, utilization_pct: avg === null ? null : Math.round(avg * 100) / 100 };
  });
}
