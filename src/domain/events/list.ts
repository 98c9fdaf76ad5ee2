import { and, count, desc, eq, lt, sql } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import { events } from "../../db/schema/index.js";
import { type PageQuery, paginate } from "../../http/pagination.js";

export interface EventRow {
  id: string;
  type: string;
  data: Record<string, unknown>;
  createdAt: Date;
}

/**
 * The events about one instance (its status changes, volumes attached and detached), newest first. The caller has
 * already checked that the instance is the tenant's (`getInstance`), so another tenant's instance is a 404 there.
 */
export async function listInstanceEvents(ctx: AppContext, tenantId: number, instanceId: string, query: PageQuery) {
  const where = and(
    eq(events.tenantId, tenantId),
    // Spelled as events_instance_idx is (expression and predicate), so the planner uses it.
    sql`${events.data} ? 'instance_id'`,
    sql`${events.data}->>'instance_id' = ${instanceId}`,
  );
  return paginate<EventRow>(
    query,
    async (after, take) =>
      (await ctx.db
        .select({ id: events.id, type: events.type, data: events.data, createdAt: events.createdAt })
        .from(events)
        .where(and(where, after !== undefined ? lt(events.id, String(after)) : undefined))
        .orderBy(desc(events.id))
        .limit(take)) as EventRow[],
    async () => (await ctx.db.select({ n: count() }).from(events).where(where))[0].n,
    "text",
  );
}
