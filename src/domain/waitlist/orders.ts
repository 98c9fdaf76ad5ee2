import { and, eq, sql } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import type { Executor } from "../../db/client.js";
import { instances, upstreamLaunches, waitlistEntries } from "../../db/schema/index.js";
import { newId } from "../../lib/ids.js";
import { emitEvent } from "../events/emit.js";
import type { InstanceRow } from "../instances/row.js";
import { eventData, type WaitlistRow } from "./entries.js";

/**
 * An order that waits for capacity: an instance created with `waitlist: true` on a resold cloud whose every allowed
 * offer refused for lack of capacity. It stays `ordered` and is a waitlist entry too (mode auto_deploy, its
 * `instance_id` set from the start), so the customer sees it in GET /api/v1/waitlist with its position and gets the
 * `waitlist.*` events. The entry is closed by the instance leaving `ordered` (see `orderLeftOrdered`): launched is
 * `deployed`, failed is `failed`, stopped or deleted by its owner is `cancelled`.
 */
export async function waitlistOrder(ctx: AppContext, instanceId: string, reason: string): Promise<WaitlistRow | null> {
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx.select().from(instances).where(eq(instances.id, instanceId)).for("update");
    if (row?.status !== "ordered") return null;
    await tx.update(instances).set({ statusReason: reason }).where(eq(instances.id, instanceId));
    const [waiting] = await tx
      .update(waitlistEntries)
      .set({ statusReason: reason })
      .where(and(eq(waitlistEntries.instanceId, instanceId), eq(waitlistEntries.status, "waiting")))
      .returning();
    if (waiting) return waiting;
    const [entry] = await tx
      .insert(waitlistEntries)
      .values({
        id: newId("wl"),
        tenantId: row.tenantId,
        instanceTypeId: row.instanceTypeId,
        requestedType: row.requestedType,
        regionId: row.regionId,
        mode: "auto_deploy",
        deployRequest: null,
        status: "waiting",
        statusReason: reason,
        instanceId,
        createdAt: now,
      })
      .returning();
    return entry;
  });
}

/**
 * Called by every instance transition out of `ordered`, in its transaction: closes the waitlist entry of an order
 * that waited for capacity. Nothing happens for an order that never waited (no entry).
 */
export async function orderLeftOrdered(ctx: AppContext, tx: Executor, row: InstanceRow, reason: string | null) {
  const now = ctx.clock.now();
  const outcome =
    row.status === "provisioning" || row.status === "running"
      ? { status: "deployed", reason: `launched on ${row.provider} in ${row.regionId}` }
      : row.status === "failed"
        ? { status: "failed", reason: reason ?? "the order failed" }
        : { status: "cancelled", reason: `the order was ${row.status === "stopped" ? "stopped" : "deleted"}` };
  const [entry] = await tx
    .update(waitlistEntries)
    .set({ status: outcome.status, statusReason: outcome.reason, fulfilledAt: now })
    .where(and(eq(waitlistEntries.instanceId, row.id), eq(waitlistEntries.status, "waiting")))
    .returning();
  if (!entry || outcome.status === "cancelled") return;
  await emitEvent(
    tx,
    entry.tenantId,
    outcome.status === "deployed" ? "waitlist.deployed" : "waitlist.failed",
    eventData(entry, outcome.status === "failed" ? { reason: outcome.reason } : { provider: row.provider }),
    now,
  );
}

/**
 * The waitlist loop saw room for a waiting order: instead of deploying a new instance, the order tries its plan now
 * rather than at its next retry. Only an order resting between retries is woken (its claim is not held: attempts 0);
 * one being launched right now is left to its worker. True when woken.
 */
export async function wakeOrder(ctx: AppContext, instanceId: string): Promise<boolean> {
  const woken = await ctx.db
    .update(upstreamLaunches)
    .set({ leaseUntil: null })
    .where(
      and(
        eq(upstreamLaunches.instanceId, instanceId),
        eq(upstreamLaunches.attempts, 0),
        sql`${upstreamLaunches.leaseUntil} is not null`,
      ),
    )
    .returning({ id: upstreamLaunches.instanceId });
  if (woken.length) ctx.kick("provisioning");
  return woken.length > 0;
}
