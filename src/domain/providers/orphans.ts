import { and, eq, inArray } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import { instances, upstreamOrphans, upstreamProviders } from "../../db/schema/index.js";
import { instanceIdFromTag, type UpstreamInstance, type UpstreamName } from "../../providers/upstream/types.js";
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

function orphanData(row: typeof upstreamOrphans.$inferSelect) {
  return {
    provider: row.provider,
    upstream_id: row.upstreamId,
    name: row.name,
    upstream_status: row.upstreamStatus,
    first_seen_at: row.firstSeenAt.toISOString(),
    terminated_at: row.terminatedAt?.toISOString() ?? null,
  };
}
