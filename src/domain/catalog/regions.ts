import { asc, eq } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import type { Executor } from "../../db/client.js";
import { regions } from "../../db/schema/index.js";
import { badRequest, conflict, notFound } from "../../lib/errors.js";
import { type Actor, audit, changes, snapshot } from "../audit/audit.js";

export type RegionRow = typeof regions.$inferSelect;

export async function listRegions(ctx: AppContext, includeInactive = false): Promise<RegionRow[]> {
  const rows = await ctx.db.select().from(regions).orderBy(asc(regions.id));
  return includeInactive ? rows : rows.filter((r) => r.active);
}

/** An active region, or a 400 naming the field the caller used ("location", "region"). */
export async function resolveRegion(db: Executor, id: string, field = "region"): Promise<RegionRow> {
  const [row] = await db.select().from(regions).where(eq(regions.id, id));
  if (!row?.active) throw badRequest(`${field} '${id}' is not an available region; see GET /api/v1/regions`);
  return row;
}

export async function createRegion(
  ctx: AppContext,
  actor: Actor,
  input: { id: string; name: string; country?: string | null },
) {
  return ctx.db.transaction(async (tx) => {
    const rows = await tx
      .insert(regions)
      .values({ id: input.id, name: input.name, country: input.country ?? null })
      .onConflictDoNothing()
      .returning();
    if (!rows.length) throw conflict(`region '${input.id}' already exists`);
    await audit(tx, actor, {
      action: "region.create",
      target: `region:${input.id}`,
      tenantId: null,
      after: snapshot(rows[0]),
    });
    return rows[0];
  });
}

export async function updateRegion(
  ctx: AppContext,
  actor: Actor,
  id: string,
  patch: { name?: string; country?: string | null; active?: boolean },
) {
  return ctx.db.transaction(async (tx) => {
    const [before] = await tx.select().from(regions).where(eq(regions.id, id)).for("update");
    if (!before) throw notFound("region");
    const [row] = await tx.update(regions).set(patch).where(eq(regions.id, id)).returning();
    await audit(tx, actor, {
      action: "region.update",
      target: `region:${id}`,
      tenantId: null,
      ...changes(snapshot(before), snapshot(row)),
    });
    return row;
  });
}
