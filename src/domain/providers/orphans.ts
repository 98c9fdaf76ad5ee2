import { and, eq, inArray, isNull } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import { instances, upstreamOrphans, upstreamProviders, volumes } from "../../db/schema/index.js";
import {
  instanceIdFromTag,
  type UpstreamInstance,
  type UpstreamName,
  type UpstreamVolume,
} from "../../providers/upstream/types.js";
import { emitEvent } from "../events/emit.js";
import type { UpstreamProviders } from "../placement/upstream.js";

const DEFAULT_GRACE_S = 3600;

/**
 * Upstream instances carrying gpuplane's tag that no live record claims (a launch whose answer was lost and never
 * adopted, a second launch, a delete that did not reach the cloud): each is recorded and announced to the operator
 * (`provider.orphan_found`) on the pass that first sees it, and terminated once the operator's grace has passed.
 * They are never billed to a customer. Returns how many are open.
 */
export async function sweepOrphans(
  ctx: AppContext,
  upstream: UpstreamProviders,
  name: UpstreamName,
  listed: UpstreamInstance[],
  claimed: Set<string>,
  inFlight: Set<string>,
): Promise<number> {
  const suspects = listed.filter((u) => {
    const instanceId = instanceIdFromTag(u.name);
    return instanceId && u.state !== "gone" && !claimed.has(u.id) && !inFlight.has(instanceId);
  });
  if (!suspects.length) return 0;
  // A record may have claimed it since the list (a launch committed meanwhile): check again by upstream id.
  const adopted = await ctx.db
    .select({ ref: instances.providerRef })
    .from(instances)
    .where(
      and(
        eq(instances.provider, name),
        inArray(
          instances.providerRef,
          suspects.map((s) => s.id),
        ),
        inArray(instances.status, ["provisioning", "running", "stopped", "deleting"]),
      ),
    );
  const taken = new Set(adopted.map((a) => a.ref));
  const orphans = suspects.filter((s) => !taken.has(s.id));
  if (!orphans.length) return 0;
  const now = ctx.clock.now();
  const [settings] = await ctx.db
    .select({ grace: upstreamProviders.orphanGraceSeconds })
    .from(upstreamProviders)
    .where(eq(upstreamProviders.name, name));
  const graceMs = (settings?.grace ?? DEFAULT_GRACE_S) * 1000;
  for (const u of orphans) {
    const record = await ctx.db.transaction(async (tx) => {
      const [inserted] = await tx
        .insert(upstreamOrphans)
        .values({
          provider: name,
          kind: "instance",
          upstreamId: u.id,
          name: u.name,
          upstreamStatus: u.status,
          firstSeenAt: now,
          lastSeenAt: now,
        })
        .onConflictDoNothing()
        .returning();
      if (inserted) {
        await emitEvent(tx, null, "provider.orphan_found", orphanData(inserted), now);
        ctx.log.warn({ provider: name, upstream_id: u.id, name: u.name }, "orphan upstream instance found");
        return inserted;
      }
      const [existing] = await tx
        .update(upstreamOrphans)
        .set({ lastSeenAt: now, upstreamStatus: u.status })
        .where(and(eq(upstreamOrphans.provider, name), eq(upstreamOrphans.upstreamId, u.id)))
        .returning();
      return existing;
    });
    if (record.terminatedAt && now.getTime() - record.terminatedAt.getTime() < 60_000) continue;
    if (now.getTime() - record.firstSeenAt.getTime() < graceMs) continue;
    try {
      await upstream.cloud(name).terminate([u.id]);
      await ctx.db.transaction(async (tx) => {
        const [done] = await tx
          .update(upstreamOrphans)
          .set({ terminatedAt: now })
          .where(and(eq(upstreamOrphans.provider, name), eq(upstreamOrphans.upstreamId, u.id)))
          .returning();
        await emitEvent(tx, null, "provider.orphan_terminated", orphanData(done), now);
      });
    } catch (error) {
      ctx.log.warn(
        { err: error, provider: name, upstream_id: u.id },
        "could not terminate an orphan; next pass retries",
      );
    }
  }
  return orphans.length;
}

/**
 * Volumes gpuplane no longer sells that the cloud keeps charging for (Verda: "Storage not marked for deletion will
 * continue to charge your account", verda-cli `cmd/vm/action.go`): an OS volume a delete left, a detached disk whose
 * gpuplane volume is deleted, a volume made by hand. One volume list per pass; a volume is claimed by a live gpuplane
 * volume (`upstream_ref`), or by the instance it is attached to while the cloud still lists that instance (an orphan
 * instance's own OS volume goes with its terminate). Each unclaimed volume is recorded (`kind: volume`) and announced
 * to the operator (`provider.orphan_found`) once; gpuplane never deletes a volume it cannot prove it made, so the
 * operator deletes it (or attaches it to a gpuplane volume). One the cloud no longer lists is closed (`terminated_at`).
 * Returns how many are open.
 */
export async function sweepVolumeOrphans(
  ctx: AppContext,
  name: UpstreamName,
  listedVolumes: UpstreamVolume[],
  listedInstances: UpstreamInstance[],
): Promise<number> {
  const now = ctx.clock.now();
  const live = new Set(listedInstances.filter((u) => u.state !== "gone").map((u) => u.id));
  const sold = await ctx.db
    .select({ ref: volumes.upstreamRef })
    .from(volumes)
    .where(and(eq(volumes.upstreamProvider, name), inArray(volumes.status, ["available", "attached"])));
  const claimed = new Set(sold.map((v) => v.ref));
  const orphans = listedVolumes.filter(
    (v) => !claimed.has(v.id) && !(v.instanceId && live.has(v.instanceId)) && v.status !== "deleted",
  );
  for (const v of orphans) {
    await ctx.db.transaction(async (tx) => {
      const [inserted] = await tx
        .insert(upstreamOrphans)
        .values({
          provider: name,
          kind: "volume",
          upstreamId: v.id,
          name: v.name,
          upstreamStatus: v.status,
          firstSeenAt: now,
          lastSeenAt: now,
        })
        .onConflictDoNothing()
        .returning();
      if (inserted) {
        const data = { ...orphanData(inserted), size_gb: v.sizeGb, location: v.location, is_os_volume: v.isOsVolume };
        await emitEvent(tx, null, "provider.orphan_found", data, now);
        ctx.log.warn({ provider: name, volume: v.id, name: v.name }, "orphan upstream volume found: still charged");
        return;
      }
      await tx
        .update(upstreamOrphans)
        .set({ lastSeenAt: now, upstreamStatus: v.status, terminatedAt: null })
        .where(and(eq(upstreamOrphans.provider, name), eq(upstreamOrphans.upstreamId, v.id)));
    });
  }
  // Those the cloud no longer lists (the operator deleted them, or a gpuplane volume claimed them) are closed.
  const open = await ctx.db
    .select({ upstreamId: upstreamOrphans.upstreamId })
    .from(upstreamOrphans)
    .where(
      and(eq(upstreamOrphans.provider, name), eq(upstreamOrphans.kind, "volume"), isNull(upstreamOrphans.terminatedAt)),
    );
  const still = new Set(orphans.map((v) => v.id));
  const closed = open.map((o) => o.upstreamId).filter((id) => !still.has(id));
  if (closed.length) {
    await ctx.db
      .update(upstreamOrphans)
      .set({ terminatedAt: now })
      .where(and(eq(upstreamOrphans.provider, name), inArray(upstreamOrphans.upstreamId, closed)));
  }
  return orphans.length;
}

function orphanData(row: typeof upstreamOrphans.$inferSelect) {
  return {
    provider: row.provider,
    kind: row.kind,
    upstream_id: row.upstreamId,
    name: row.name,
    upstream_status: row.upstreamStatus,
    first_seen_at: row.firstSeenAt.toISOString(),
    terminated_at: row.terminatedAt?.toISOString() ?? null,
  };
}
