import { and, asc, eq, inArray } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import { waitlistEntries } from "../../db/schema/index.js";
import { ApiError, NoCapacity } from "../../lib/errors.js";
import { availableCapacity } from "../catalog/offers.js";
import { emitEvent } from "../events/emit.js";
import { createInstance } from "../instances/create.js";
import { itemFailed } from "../loops/isolate.js";
import { type DeployRequest, eventData, type WaitlistRow } from "./entries.js";
import { wakeOrder } from "./orders.js";

export interface ServeSummary {
  notified: number;
  deployed: number;
  failed: number;
  /** Orders waiting for capacity (created with `waitlist: true`) told to try their launch again now. */
  retried: number;
}

/**
 * One pass over every queue (type × region) with someone waiting: where the provider reports room, entries are
 * served first come first served, each taking one unit of the room seen. A notify entry gets `waitlist.available`
 * (and the others keep their places: they are told in turn, not all at once to race for one GPU); an auto-deploy
 * entry is deployed as its owner asked. A deploy refused for the customer's own reasons (credits, quota, a deleted
 * SSH key) fails that entry with the reason and the queue moves on; a deploy refused for capacity ends the pass for
 * that queue, with the entry keeping its place. An entry that holds an order waiting for capacity (`waitlist: true` on
 * a resold cloud) is not deployed: its order is told to try its launch now.
 */
export async function serveWaitlist(ctx: AppContext): Promise<ServeSummary> {
  const summary: ServeSummary = { notified: 0, deployed: 0, failed: 0, retried: 0 };
  const queues = await ctx.db
    .selectDistinct({ typeId: waitlistEntries.instanceTypeId, regionId: waitlistEntries.regionId })
    .from(waitlistEntries)
    .where(eq(waitlistEntries.status, "waiting"));
  for (const q of queues) {
    let room = await availableCapacity(ctx, q.typeId, q.regionId).catch((error) => {
      ctx.log.warn({ err: error, ...q }, "waitlist: cannot read capacity");
      return 0;
    });
    if (room <= 0) continue;
    const waiting = await ctx.db
      .select()
      .from(waitlistEntries)
      .where(
        and(
          eq(waitlistEntries.instanceTypeId, q.typeId),
          eq(waitlistEntries.regionId, q.regionId),
          eq(waitlistEntries.status, "waiting"),
        ),
      )
      .orderBy(asc(waitlistEntries.id))
      .limit(room + 50); // failures move on to later entries without consuming room
    for (const entry of waiting) {
      if (room <= 0) break;
      let outcome: Awaited<ReturnType<typeof deploy>> | "notified";
      try {
        // An entry that already holds an order is never deployed again: its order is told to try now (or, when its
        // worker is launching it at this moment, left to it); either way it takes the room.
        if (entry.instanceId && entry.mode === "auto_deploy") {
          if (await wakeOrder(ctx, entry.instanceId)) summary.retried++;
          room--;
          continue;
        }
        outcome = entry.mode === "auto_deploy" ? await deploy(ctx, entry) : await notify(ctx, entry, room);
      } catch (error) {
        // One entry that cannot be served (a bad row, a broken webhook endpoint) does not hold the queue up.
        itemFailed(ctx, "waitlist", entry.id, error);
        continue;
      }
      if (outcome === "no_capacity") break;
      summary[outcome]++;
      if (outcome !== "failed") room--;
    }
  }
  return summary;
}

async function notify(ctx: AppContext, entry: WaitlistRow, available: number) {
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const [done] = await tx
      .update(waitlistEntries)
      .set({ status: "notified", statusReason: "capacity became available", fulfilledAt: now })
      .where(and(eq(waitlistEntries.id, entry.id), eq(waitlistEntries.status, "waiting")))
      .returning();
    if (done) await emitEvent(tx, entry.tenantId, "waitlist.available", eventData(done, { available }), now);
    return "notified" as const;
  });
}

async function deploy(ctx: AppContext, entry: WaitlistRow) {
  const request = entry.deployRequest as DeployRequest;
  try {
    const instance = await createInstance(ctx, entry.tenantId, {
      name: request.hostname,
      instanceType: request.cluster_type,
      image: request.image,
      regionId: entry.regionId,
      sshKeyIds: request.ssh_key_ids,
      volumeIds: request.volume_ids,
      fields: { instanceType: "cluster_type", image: "image", region: "location", sshKeyIds: "ssh_key_ids" },
    });
    await finish(ctx, entry, "deployed", `deployed as ${instance.id}`, instance.id);
    return "deployed" as const;
  } catch (error) {
    if (error instanceof NoCapacity) return "no_capacity" as const; // someone took it first
    if (!(error instanceof ApiError)) throw error;
    await finish(ctx, entry, "failed", `${error.code}: ${error.message}`, null);
    return "failed" as const;
  }
}

/** A cancelled entry still records the instance deployed for it meanwhile; a failure after a cancel is moot. */
const closable = { deployed: ["waiting", "cancelled"], failed: ["waiting"] };

async function finish(
  ctx: AppContext,
  entry: WaitlistRow,
  status: "deployed" | "failed",
  reason: string,
  instanceId: string | null,
) {
  const now = ctx.clock.now();
  await ctx.db.transaction(async (tx) => {
    const [done] = await tx
      .update(waitlistEntries)
      .set({ status, statusReason: reason, instanceId, fulfilledAt: now })
      .where(and(eq(waitlistEntries.id, entry.id), inArray(waitlistEntries.status, closable[status])))
      .returning();
    if (!done) return;
    const type = status === "deployed" ? "waitlist.deployed" : "waitlist.failed";
    await emitEvent(tx, entry.tenantId, type, eventData(done, status === "failed" ? { reason } : {}), now);
  });
}
