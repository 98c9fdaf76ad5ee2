import { and, count, desc, eq, lt, ne, type Placeholder, sql } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import type { Db } from "../../db/client.js";
import { prepared } from "../../db/prepared.js";
import { instances } from "../../db/schema/index.js";
import { type PageQuery, paginate, paginateCounted } from "../../http/pagination.js";
import { notFound } from "../../lib/errors.js";
import type { InstanceRow } from "./row.js";

/** Another tenant's instance is a 404. `tenantId` null = an operator, who sees every tenant's. */
export async function getInstance(ctx: AppContext, tenantId: number | null, id: string): Promise<InstanceRow> {
  const [row] = await prepared(ctx.db, "instance_by_id", (db, name) =>
    db
      .select()
      .from(instances)
      .where(eq(instances.id, sql.placeholder("id")))
      .prepare(name),
  ).execute({ id });
  if (!row || (tenantId !== null && row.tenantId !== tenantId)) throw notFound("instance");
  return row;
}

/** Newest first; deleted instances only when asked for. */
export async function listInstances(
  ctx: AppContext,
  tenantId: number | null,
  query: PageQuery & { status?: string; includeDeleted?: boolean },
) {
  if (tenantId !== null && !query.status && !query.includeDeleted) {
    // A customer listing their instances, the common call: prepared statements (first page, and after a cursor).
    return paginateCounted(
      query,
      (after, take) =>
        after === undefined
          ? prepared(ctx.db, "instances_first_page", tenantInstancesPage(false)).execute({ tenant: tenantId, take })
          : prepared(ctx.db, "instances_next_page", tenantInstancesPage(true)).execute({
              tenant: tenantId,
              take,
              after,
            }),
      async () => (await ctx.db.select({ n: count() }).from(instances).where(liveOf(tenantId)))[0].n,
    );
  }
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

/** A tenant's instances that are not deleted. */
const liveOf = (tenantId: number | Placeholder) =>
  and(eq(instances.tenantId, tenantId as number), ne(instances.status, "deleted"));

function tenantInstancesPage(afterCursor: boolean) {
  return (db: Db, name: string) => {
    const live = liveOf(sql.placeholder("tenant"));
    const total = sql<number>`(select count(*) from ${instances} where ${live})`.mapWith(Number);
    return db
      .select({ row: instances, total })
      .from(instances)
      .where(afterCursor ? and(live, lt(instances.id, sql.placeholder("after"))) : live)
      .orderBy(desc(instances.id))
      .limit(sql.placeholder("take"))
      .prepare(name);
  };
}
