import { and, count, desc, eq, lt, ne } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import { instances } from "../../db/schema/index.js";
import { type PageQuery, paginate } from "../../http/pagination.js";
import { notFound } from "../../lib/errors.js";
import type { InstanceRow } from "../../providers/types.js";

/** Another tenant's instance is a 404. `tenantId` null = an operator, who sees every tenant's. */
export async function getInstance(ctx: AppContext, tenantId: number | null, id: string): Promise<InstanceRow> {
  const [row] = await ctx.db.select().from(instances).where(eq(instances.id, id));
  if (!row || (tenantId !== null && row.tenantId !== tenantId)) throw notFound("instance");
  return row;
}

/** Newest first; deleted instances only when asked for. */
export async function listInstances(
  ctx: AppContext,
  tenantId: number | null,
  query: PageQuery & { status?: string; includeDeleted?: boolean },
) {
  const where = and(
    tenantId === null ? undefined : eq(instances.tenantId, tenantId),
    query.status ? eq(instances.status, query.status) : undefined,
    query.includeDeleted || query.status === "deleted" ? undefined : ne(instances.status, "deleted"),
  );
  return paginate(
    query,
    (after, take) =>
      ctx.db
        .select()
        .from(instances)
        .where(and(where, after !== undefined ? lt(instances.id, String(after)) : undefined))
        .orderBy(desc(instances.id))
        .limit(take),
    async () => (await ctx.db.select({ n: count() }).from(instances).where(where))[0].n,
  );
}
