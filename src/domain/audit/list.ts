import { and, count, desc, eq, gte, like, lt, type SQL } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import { auditLog } from "../../db/schema/index.js";
import type { PageQuery } from "../../http/pagination.js";
import { paginate } from "../../http/pagination.js";

export type AuditRow = typeof auditLog.$inferSelect;

export interface AuditFilter {
  /** One tenant's entries; null: every tenant's and the fleet's (an operator). */
  tenantId: number | null;
  /** The key or session that acted. */
  actorKeyId?: string;
  /** An exact action (`tenant.update`), or every action of an area with a trailing `.*` (`api_key.*`). */
  action?: string;
  target?: string;
  since?: Date;
  until?: Date;
}

/** Audit entries, newest first, filtered and paged by id (keyset). */
export async function listAuditLog(ctx: AppContext, filter: AuditFilter, query: PageQuery) {
  const where = and(...conditions(filter));
  return paginate(
    query,
    (after, take) =>
      ctx.db
        .select()
        .from(auditLog)
        .where(and(where, after !== undefined ? lt(auditLog.id, Number(after)) : undefined))
        .orderBy(desc(auditLog.id))
        .limit(take),
    async () => (await ctx.db.select({ n: count() }).from(auditLog).where(where))[0].n,
    "int",
  );
}

function conditions(f: AuditFilter): (SQL | undefined)[] {
  const area = f.action?.endsWith(".*") ? f.action.slice(0, -1) : undefined;
  return [
    f.tenantId !== null ? eq(auditLog.tenantId, f.tenantId) : undefined,
    f.actorKeyId !== undefined ? eq(auditLog.actorKeyId, f.actorKeyId) : undefined,
    area !== undefined ? like(auditLog.action, `${area.replace(/[\\%_]/g, "\\$&")}%`) : undefined,
    f.action !== undefined && area === undefined ? eq(auditLog.action, f.action) : undefined,
    f.target !== undefined ? eq(auditLog.target, f.target) : undefined,
    f.since !== undefined ? gte(auditLog.createdAt, f.since) : undefined,
    f.until !== undefined ? lt(auditLog.createdAt, f.until) : undefined,
  ];
}
