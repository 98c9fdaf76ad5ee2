import { and, asc, eq, inArray, or } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import type { Executor } from "../../db/client.js";
import { instanceTypeAliases, instanceTypeRegionPrices, instanceTypes } from "../../db/schema/index.js";
import { ApiError, badRequest, conflict, notFound } from "../../lib/errors.js";
import { type Actor, audit, changes, snapshot } from "../audit/audit.js";

export type InstanceTypeRow = typeof instanceTypes.$inferSelect;
export type AliasKind = "plan" | "cluster_type";
export interface InstanceType extends InstanceTypeRow {
  aliases: { alias: string; kind: string }[];
  /** Per-region prices that differ from pricePerHourMicros. */
  regionPrices: Record<string, bigint>;
}

/** The 000 plan id and the 001 cluster type of a type (falling back to its canonical id). */
export const planId = (t: InstanceType) => t.aliases.find((a) => a.kind === "plan")?.alias ?? t.id;
export const clusterType = (t: InstanceType) => t.aliases.find((a) => a.kind === "cluster_type")?.alias ?? t.id;

/** The hourly price of a type in a region: the region's own price where one is set, else the list price. */
export const priceIn = (t: InstanceType, regionId: string) => t.regionPrices[regionId] ?? t.pricePerHourMicros;

async function withDetails(db: Executor, rows: InstanceTypeRow[]): Promise<InstanceType[]> {
  if (!rows.length) return [];
  const ids = rows.map((r) => r.id);
  const [aliases, prices] = await Promise.all([
    db.select().from(instanceTypeAliases).where(inArray(instanceTypeAliases.instanceTypeId, ids)),
    db.select().from(instanceTypeRegionPrices).where(inArray(instanceTypeRegionPrices.instanceTypeId, ids)),
  ]);
  return rows.map((r) => ({
    ...r,
    aliases: aliases
      .filter((a) => a.instanceTypeId === r.id)
      .map((a) => ({ alias: a.alias, kind: a.kind }))
      .sort((a, b) => a.kind.localeCompare(b.kind)),
    regionPrices: Object.fromEntries(
      prices.filter((p) => p.instanceTypeId === r.id).map((p) => [p.regionId, p.pricePerHourMicros]),
    ),
  }));
}

/**
 * Finds an instance type by its canonical id or any alias ("GPU.H100.1x", "1H100.80S.30V", "h100-80gb-1x"),
 * so plan ids and cluster types are interchangeable everywhere. Unknown or retired ids are a 400 that says where to look.
 */
export async function resolveInstanceType(
  ctx: AppContext,
  idOrAlias: string,
  db: Executor = ctx.db,
): Promise<InstanceType> {
  // One round trip for either spelling: the canonical id, or the type an alias points at.
  const aliased = db
    .select({ id: instanceTypeAliases.instanceTypeId })
    .from(instanceTypeAliases)
    .where(eq(instanceTypeAliases.alias, idOrAlias));
  const [row] = await db
    .select()
    .from(instanceTypes)
    .where(or(eq(instanceTypes.id, idOrAlias), inArray(instanceTypes.id, aliased)))
    .limit(1);
  if (!row?.active) {
    throw badRequest(`unknown instance type '${idOrAlias}'; see GET /api/v1/plans or GET /api/v1/gpus/available`);
  }
  return (await withDetails(db, [row]))[0];
}

export async function listInstanceTypes(
  ctx: AppContext,
  filter: { includeInactive?: boolean; gpuModel?: string } = {},
): Promise<InstanceType[]> {
  const rows = await ctx.db
    .select()
    .from(instanceTypes)
    .where(
      and(
        filter.includeInactive ? undefined : eq(instanceTypes.active, true),
        filter.gpuModel ? eq(instanceTypes.gpuModel, filter.gpuModel) : undefined,
      ),
    )
    .orderBy(asc(instanceTypes.gpuModel), asc(instanceTypes.gpuCount));
  return withDetails(ctx.db, rows);
}

export interface InstanceTypeInput {
  id: string;
  name: string;
  gpuModel: string;
  gpuMemoryGb: number;
  gpuCount: number;
  vcpus: number;
  ramGb: number;
  diskGb: number;
  pricePerHourMicros: bigint;
  billingGranularitySeconds?: number;
  minimumChargeMicros?: bigint;
  active?: boolean;
  aliases?: { alias: string; kind: AliasKind }[];
  regionPrices?: { regionId: string; pricePerHourMicros: bigint }[];
}

export async function createInstanceType(
  ctx: AppContext,
  actor: Actor,
  input: InstanceTypeInput,
): Promise<InstanceType> {
  return ctx.db.transaction(async (tx) => {
    const inserted = await tx
      .insert(instanceTypes)
      .values({
        id: input.id,
        name: input.name,
        gpuModel: input.gpuModel,
        gpuMemoryGb: input.gpuMemoryGb,
        gpuCount: input.gpuCount,
        vcpus: input.vcpus,
        ramGb: input.ramGb,
        diskGb: input.diskGb,
        pricePerHourMicros: input.pricePerHourMicros,
        billingGranularitySeconds: input.billingGranularitySeconds ?? 1,
        minimumChargeMicros: input.minimumChargeMicros ?? 0n,
        active: input.active ?? true,
      })
      .onConflictDoNothing()
      .returning();
    if (!inserted.length) throw conflict(`instance type '${input.id}' already exists`);
    await addAliases(tx, input.id, input.aliases ?? []);
    await setRegionPrices(tx, input.id, input.regionPrices ?? []);
    const [created] = await withDetails(tx, inserted);
    await audit(tx, actor, {
      action: "instance_type.create",
      target: `instance_type:${input.id}`,
      tenantId: null,
      after: snapshot(created),
    });
    return created;
  });
}

export type InstanceTypePatch = Partial<Omit<InstanceTypeInput, "id">>;

/** Price and granularity changes apply to new instances only: running ones keep the price they were created with. */
export async function updateInstanceType(
  ctx: AppContext,
  actor: Actor,
  id: string,
  patch: InstanceTypePatch,
): Promise<InstanceType> {
  return ctx.db.transaction(async (tx) => {
    const { aliases, regionPrices, ...fields } = patch;
    const [before] = await withDetails(
      tx,
      await tx.select().from(instanceTypes).where(eq(instanceTypes.id, id)).for("update"),
    );
    const [row] = Object.keys(fields).length
      ? await tx.update(instanceTypes).set(fields).where(eq(instanceTypes.id, id)).returning()
      : await tx.select().from(instanceTypes).where(eq(instanceTypes.id, id));
    if (!row) throw notFound("instance type");
    await addAliases(tx, id, aliases ?? []);
    await setRegionPrices(tx, id, regionPrices ?? []);
    const [after] = await withDetails(tx, [row]);
    await audit(tx, actor, {
      action: "instance_type.update",
      target: `instance_type:${id}`,
      tenantId: null,
      ...changes(snapshot(before), snapshot(after)),
    });
    return after;
  });
}

async function addAliases(tx: Executor, instanceTypeId: string, aliases: { alias: string; kind: AliasKind }[]) {
  for (const a of aliases) {
    const [taken] = await tx.select().from(instanceTypeAliases).where(eq(instanceTypeAliases.alias, a.alias));
    if (taken && taken.instanceTypeId !== instanceTypeId) {
      throw new ApiError("CONFLICT", `alias '${a.alias}' already names instance type '${taken.instanceTypeId}'`);
    }
    if (!taken) await tx.insert(instanceTypeAliases).values({ alias: a.alias, instanceTypeId, kind: a.kind });
  }
}

async function setRegionPrices(
  tx: Executor,
  instanceTypeId: string,
  prices: { regionId: string; pricePerHourMicros: bigint }[],
) {
  for (const p of prices) {
    await tx
      .insert(instanceTypeRegionPrices)
      .values({ instanceTypeId, regionId: p.regionId, pricePerHourMicros: p.pricePerHourMicros })
      .onConflictDoUpdate({
        target: [instanceTypeRegionPrices.instanceTypeId, instanceTypeRegionPrices.regionId],
        set: { pricePerHourMicros: p.pricePerHourMicros },
      });
  }
}
