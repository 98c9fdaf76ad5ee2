import { and, count, desc, eq, inArray, lt, ne } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import type { Executor } from "../../db/client.js";
import { volumes } from "../../db/schema/index.js";
import { type PageQuery, paginate } from "../../http/pagination.js";
import { ApiError, badRequest, conflict, notFound } from "../../lib/errors.js";
import { newId } from "../../lib/ids.js";
import { usdToMicros } from "../../lib/money.js";
import { UpstreamError } from "../../providers/upstream/errors.js";
import type { UpstreamName } from "../../providers/upstream/types.js";
import { resolveRegion } from "../catalog/regions.js";
import { emitEvent } from "../events/emit.js";
import type { InstanceRow } from "../instances/row.js";
import { assertAllowed } from "../instances/states.js";
import { providers } from "../placement/registry.js";
import { badGateway } from "../placement/upstream.js";

export type VolumeRow = typeof volumes.$inferSelect;
export const volumeTypes = ["nvme", "hdd"] as const;
export type VolumeType = (typeof volumeTypes)[number];

/** Price per GB-month, captured on the volume at creation; billing charges it while the volume exists. */
export const volumePricePerGbMonth: Record<VolumeType, bigint> = {
  nvme: usdToMicros("0.20"),
  hdd: usdToMicros("0.05"),
};

export interface NewVolume {
  name: string;
  sizeGb: number;
  type: VolumeType;
  regionId: string;
}

export async function createVolume(ctx: AppContext, tx: Executor, tenantId: number, input: NewVolume) {
  await resolveRegion(tx, input.regionId);
  const [row] = await tx
    .insert(volumes)
    .values({
      id: newId("vol"),
      tenantId,
      name: input.name,
      sizeGb: input.sizeGb,
      type: input.type,
      regionId: input.regionId,
      status: "available",
      pricePerGbMonthMicros: volumePricePerGbMonth[input.type],
      createdAt: ctx.clock.now(),
    })
    .returning();
  return row;
}

const visible = (tenantId: number | null) =>
  and(tenantId === null ? undefined : eq(volumes.tenantId, tenantId), ne(volumes.status, "deleted"));

export async function listVolumes(ctx: AppContext, tenantId: number | null, query: PageQuery) {
  return paginate(
    query,
    (after, take) =>
      ctx.db
        .select()
        .from(volumes)
        .where(and(visible(tenantId), after !== undefined ? lt(volumes.id, String(after)) : undefined))
        .orderBy(desc(volumes.id))
        .limit(take),
    async () => (await ctx.db.select({ n: count() }).from(volumes).where(visible(tenantId)))[0].n,
  );
}

export async function getVolume(db: Executor, tenantId: number | null, id: string, lock = false) {
  const query = db.select().from(volumes).where(eq(volumes.id, id));
  const [row] = lock ? await query.for("update") : await query;
  if (!row || (tenantId !== null && row.tenantId !== tenantId)) throw notFound("volume");
  return row;
}

/** An attached volume cannot be deleted (409); deleting a deleted one again returns it unchanged. */
export async function deleteVolume(ctx: AppContext, tenantId: number | null, id: string): Promise<VolumeRow> {
  // A resold cloud's copy (Verda) is deleted first, outside the transaction; should the cloud fail, nothing changes
  // here and the caller gets its 502 (a repeat is harmless: a copy already gone counts as deleted).
  const current = await getVolume(ctx.db, tenantId, id);
  if (current.upstreamRef && current.upstreamProvider && current.status !== "deleted" && !current.instanceId) {
    await deleteUpstreamVolume(ctx, current.upstreamProvider, current.upstreamRef);
  }
  return ctx.db.transaction(async (tx) => {
    const row = await getVolume(tx, tenantId, id, true);
    if (row.status === "deleted") return row;
    if (row.instanceId) {
      throw conflict(`volume ${row.id} is attached to instance ${row.instanceId}; detach it first`, {
        instance_id: row.instanceId,
      });
    }
    const now = ctx.clock.now();
    const [deleted] = await tx
      .update(volumes)
      .set({ status: "deleted", deletedAt: now })
      .where(eq(volumes.id, row.id))
      .returning();
    await emitEvent(tx, row.tenantId, "volume.deleted", { volume_id: row.id, name: row.name }, now);
    return deleted;
  });
}

/** Attaches in the caller's transaction (which holds the instance row locked). Same tenant and region only. */
export async function attachVolume(ctx: AppContext, tx: Executor, instance: InstanceRow, volumeId: string) {
  assertAllowed(instance, "attach a volume to");
  const row = await getVolume(tx, instance.tenantId, volumeId, true).catch(() => {
    throw badRequest(`volume '${volumeId}' not found`);
  });
  if (row.status === "deleted") throw badRequest(`volume '${volumeId}' is deleted`);
  if (row.instanceId === instance.id) return row;
  if (row.instanceId) throw conflict(`volume ${row.id} is already attached to instance ${row.instanceId}`);
  if (row.regionId !== instance.regionId) {
    throw badRequest(
      `volume ${row.id} is in ${row.regionId} and the instance in ${instance.regionId}; a volume attaches only in its own region`,
    );
  }
  const now = ctx.clock.now();
  const [attached] = await tx
    .update(volumes)
    .set({ status: "attached", instanceId: instance.id })
    .where(eq(volumes.id, row.id))
    .returning();
  await emitEvent(tx, row.tenantId, "volume.attached", { volume_id: row.id, instance_id: instance.id }, now);
  return attached;
}

export async function detachVolume(ctx: AppContext, tx: Executor, instance: InstanceRow, volumeId: string) {
  const row = await getVolume(tx, instance.tenantId, volumeId, true);
  if (row.instanceId !== instance.id) throw conflict(`volume ${row.id} is not attached to instance ${instance.id}`);
  const now = ctx.clock.now();
  const [detached] = await tx
    .update(volumes)
    .set({ status: "available", instanceId: null })
    .where(eq(volumes.id, row.id))
    .returning();
  await emitEvent(tx, row.tenantId, "volume.detached", { volume_id: row.id, instance_id: instance.id }, now);
  return detached;
}

/** A volume outlives its instance: deleting the instance detaches them. */
export async function detachAll(ctx: AppContext, tx: Executor, instance: InstanceRow): Promise<void> {
  const attached = await tx.select({ id: volumes.id }).from(volumes).where(eq(volumes.instanceId, instance.id));
  for (const v of attached) await detachVolume(ctx, tx, instance, v.id);
}

export async function volumesOf(db: Executor, instanceIds: string[]): Promise<Map<string, VolumeRow[]>> {
  const out = new Map<string, VolumeRow[]>();
  if (!instanceIds.length) return out;
  const rows = await db.select().from(volumes).where(inArray(volumes.instanceId, instanceIds));
  for (const r of rows) out.set(r.instanceId!, [...(out.get(r.instanceId!) ?? []), r]);
  return out;
}

async function deleteUpstreamVolume(ctx: AppContext, provider: string, ref: string): Promise<void> {
  const upstream = providers(ctx).upstream;
  const name = provider as UpstreamName;
  if (!upstream?.clouds.has(name)) {
    throw new ApiError(
      "BAD_GATEWAY",
      `the volume's copy on ${provider} cannot be deleted: ${provider} is not configured`,
    );
  }
  const cloud = upstream.cloud(name);
  try {
    await cloud.volumes?.delete(ref);
  } catch (error) {
    if (!(error instanceof UpstreamError)) throw error;
    throw badGateway(name, `answered: ${error.message}`, error.kind, error.requestId);
  }
}
