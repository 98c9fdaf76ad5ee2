import { and, count, desc, eq, lt, sql } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import { instances, waitlistEntries } from "../../db/schema/index.js";
import type { PageQuery } from "../../http/pagination.js";
import { paginate } from "../../http/pagination.js";
import { badRequest, conflict, notFound } from "../../lib/errors.js";
import { newId } from "../../lib/ids.js";
import { resolveImage } from "../catalog/images.js";
import { resolveRegion } from "../catalog/regions.js";
import { resolveInstanceType } from "../catalog/types.js";
import { deleteInstance } from "../instances/lifecycle.js";
import { tenantKeysById } from "../ssh-keys/keys.js";

export type WaitlistRow = typeof waitlistEntries.$inferSelect;
export const waitlistModes = ["notify", "auto_deploy"] as const;
export type WaitlistMode = (typeof waitlistModes)[number];
export const waitlistStatuses = ["waiting", "notified", "deployed", "failed", "cancelled"] as const;

/** What an auto-deploy entry deploys: seed 001's deploy body, kept as the customer sent it. */
export interface DeployRequest {
  cluster_type: string;
  image: string;
  hostname: string;
  ssh_key_ids: string[];
  location: string;
  volume_ids?: string[];
}

export interface JoinInput {
  /** Plan id, cluster type or canonical id. */
  instanceType: string;
  region: string;
  mode: WaitlistMode;
  deploy?: Omit<DeployRequest, "cluster_type" | "location"> & { cluster_type?: string; location?: string };
}

/** An entry with its place in its (type, region) queue; null once it no longer waits. */
export type WaitlistEntry = WaitlistRow & { position: number | null };

/** 1-based place among the waiting entries of the same type and region, first come first served (ids are ordered). */
// The outer table is named in full: drizzle may leave a single table's columns unqualified, which here would bind
// to the subquery's own rows.
const position = sql<number | null>`case when waitlist_entries.status = 'waiting' then (
  select count(*) from waitlist_entries q
  where q.instance_type_id = waitlist_entries.instance_type_id and q.region_id = waitlist_entries.region_id
    and q.status = 'waiting' and q.id <= waitlist_entries.id) end`;

const withPosition = { entry: waitlistEntries, position };
const view = (r: { entry: WaitlistRow; position: number | string | null }): WaitlistEntry => ({
  ...r.entry,
  position: r.position === null ? null : Number(r.position),
});

/**
 * Joins the queue for a type in a region. An auto-deploy entry is checked now (image fits the GPU, SSH keys are the
 * tenant's) so that what can never deploy is refused at once rather than failing when capacity opens.
 */
export async function joinWaitlist(ctx: AppContext, tenantId: number, input: JoinInput): Promise<WaitlistEntry> {
  const type = await resolveInstanceType(ctx, input.instanceType).catch((error) => {
    throw badRequest(`instance_type: ${error.message}`);
  });
  const region = await resolveRegion(ctx.db, input.region, "region");
  let deployRequest: DeployRequest | null = null;
  if (input.mode === "auto_deploy") {
    const d = input.deploy;
    if (!d) throw badRequest("deploy is required for mode auto_deploy: the deployment to create when capacity opens");
    const image = await resolveImage(ctx.db, d.image, "deploy.image");
    if (!image.compatibleGpus.includes(type.gpuModel)) {
      throw badRequest(`deploy.image '${image.id}' does not support ${type.gpuModel} GPUs`);
    }
    if (!d.ssh_key_ids.length) throw badRequest("deploy.ssh_key_ids is required");
    await tenantKeysById(ctx.db, tenantId, d.ssh_key_ids, "deploy.ssh_key_ids");
    deployRequest = {
      cluster_type: input.instanceType,
      image: d.image,
      hostname: d.hostname,
      ssh_key_ids: d.ssh_key_ids,
      location: region.id,
      ...(d.volume_ids?.length ? { volume_ids: d.volume_ids } : {}),
    };
  } else if (input.deploy) {
    throw badRequest("deploy is only for mode auto_deploy");
  }
  const id = newId("wl");
  await ctx.db.transaction(async (tx) => {
    if (input.mode === "notify") {
      // One notification per type and region is enough; a second identical entry would only repeat it.
      const [dup] = await tx
        .select({ id: waitlistEntries.id })
        .from(waitlistEntries)
        .where(
          and(
            eq(waitlistEntries.tenantId, tenantId),
            eq(waitlistEntries.instanceTypeId, type.id),
            eq(waitlistEntries.regionId, region.id),
            eq(waitlistEntries.mode, "notify"),
            eq(waitlistEntries.status, "waiting"),
          ),
        );
      if (dup) throw conflict(`already on the waitlist for ${input.instanceType} in ${region.id} (${dup.id})`);
    }
    await tx.insert(waitlistEntries).values({
      id,
      tenantId,
      instanceTypeId: type.id,
      requestedType: input.instanceType,
      regionId: region.id,
      mode: input.mode,
      deployRequest,
      status: "waiting",
      createdAt: ctx.clock.now(),
    });
  });
  // No kick: a queue only moves when capacity frees up, which the loop's next pass (≤ 5 s) sees.
  return getEntry(ctx, tenantId, id);
}

export async function getEntry(ctx: AppContext, tenantId: number, id: string): Promise<WaitlistEntry> {
  const [row] = await ctx.db
    .select(withPosition)
    .from(waitlistEntries)
    .where(and(eq(waitlistEntries.id, id), eq(waitlistEntries.tenantId, tenantId)));
  if (!row) throw notFound("waitlist entry");
  return view(row);
}

export async function listEntries(
  ctx: AppContext,
  tenantId: number,
  query: PageQuery & { status?: (typeof waitlistStatuses)[number] },
) {
  const where = and(
    eq(waitlistEntries.tenantId, tenantId),
    query.status ? eq(waitlistEntries.status, query.status) : undefined,
  );
  return paginate(
    query,
    async (after, take) =>
      (
        await ctx.db
          .select(withPosition)
          .from(waitlistEntries)
          .where(and(where, after !== undefined ? lt(waitlistEntries.id, String(after)) : undefined))
          .orderBy(desc(waitlistEntries.id))
          .limit(take)
      ).map(view),
    async () => (await ctx.db.select({ n: count() }).from(waitlistEntries).where(where))[0].n,
  );
}

/**
 * Leaves the queue. Only a waiting entry can be cancelled; a finished one is returned as it is. An entry holding an
 * order that waits for capacity (`waitlist: true`) cancels the order too: the instance, never launched, is deleted.
 */
export async function cancelEntry(ctx: AppContext, tenantId: number, id: string): Promise<WaitlistEntry> {
  const entry = await getEntry(ctx, tenantId, id);
  if (entry.status !== "waiting") return entry;
  const [cancelled] = await ctx.db
    .update(waitlistEntries)
    .set({ status: "cancelled", statusReason: "cancelled by the customer", fulfilledAt: ctx.clock.now() })
    .where(and(eq(waitlistEntries.id, id), eq(waitlistEntries.status, "waiting")))
    .returning();
  if (cancelled?.instanceId) {
    const [order] = await ctx.db
      .select({ status: instances.status })
      .from(instances)
      .where(eq(instances.id, cancelled.instanceId));
    if (order?.status === "ordered") {
      await deleteInstance(ctx, {
        tenantId,
        instanceId: cancelled.instanceId,
        actor: "user",
        reason: `left the waitlist (${id}) before a cloud had room`,
      });
    }
  }
  return getEntry(ctx, tenantId, id);
}

/** The data of a `waitlist.*` event: the entry as it is now, plus what the event adds. */
export function eventData(entry: WaitlistRow, extra: Record<string, unknown>) {
  return {
    waitlist_id: entry.id,
    instance_type: entry.requestedType ?? entry.instanceTypeId,
    instance_type_id: entry.instanceTypeId,
    region: entry.regionId,
    mode: entry.mode,
    status: entry.status,
    instance_id: entry.instanceId,
    ...extra,
  };
}
