import { and, eq } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import type { Executor } from "../../db/client.js";
import { instances } from "../../db/schema/index.js";
import { notFound } from "../../lib/errors.js";
import { emitEvent } from "../events/emit.js";
import type { InstanceRow } from "./row.js";
import type { InstanceStatus } from "./states.js";

declare module "../../context.js" {
  interface DomainEvents {
    /**
     * An instance whose last run the meter has not closed yet (`running_since` set) is about to open a new one, in
     * the transition's transaction with the row locked. Billing charges the closed run
     * [metered_until ?? running_since, stopped_at) and clears running_since before the new run overwrites it.
     */
    "instance.run-reopening": { tx: Executor; instanceId: string };
    /**
     * An instance moved from `before.status` to `after.status`, in the transition's transaction (its `instance.<to>`
     * event already recorded). The waitlist closes an order that waited for capacity.
     */
    "instance.transitioned": { tx: Executor; before: InstanceRow; after: InstanceRow; reason: string | null };
  }
}

/** Locks an instance row for a state change; another tenant's instance is a 404. */
export async function lockInstance(tx: Executor, instanceId: string, tenantId: number | null): Promise<InstanceRow> {
  const [row] = await tx.select().from(instances).where(eq(instances.id, instanceId)).for("update");
  if (!row || (tenantId !== null && row.tenantId !== tenantId)) throw notFound("instance");
  return row;
}

/**
 * Moves an instance to `to` and records the event `instance.<to>` in the same transaction. Other areas' reactions
 * (billing closing a run, the waitlist closing an order) are their subscribers to `instance.run-reopening` and
 * `instance.transitioned` on ctx.bus, run in this transaction: this file imports none of them.
 *
 * The billing contract (docs/CONTRACTS.md): entering running sets running_since = now and clears stopped_at; leaving
 * running (or the agent's later confirmation, see keepBilling) sets stopped_at = now (or endedAt) and leaves
 * running_since for the meter, which charges
 * [metered_until ?? running_since, stopped_at) and then clears running_since.
 */
export async function transition(
  ctx: AppContext,
  tx: Executor,
  row: InstanceRow,
  to: InstanceStatus,
  change: {
    reason?: string | null;
    set?: Partial<InstanceRow>;
    data?: Record<string, unknown>;
    /** When the run really started or ended, where the provider says so (an upstream's own times); default now. */
    at?: Date;
    /**
     * Leaving running for a state confirmed later (an upstream's stopping or deleting, or a node agent's container
     * until the agent reports it stopped/removed): the run stays open and billed until that confirmation's
     * transition ends it.
     */
    keepBilling?: boolean;
    /** When the run ended, if not now (the agent saw the container stop then; already bounded by the caller). */
    endedAt?: Date;
  } = {},
): Promise<InstanceRow> {
  const now = ctx.clock.now();
  const at = change.at && change.at < now ? change.at : now;
  const set: Partial<InstanceRow> = { ...change.set, status: to, statusReason: change.reason ?? null, updatedAt: now };
  // The run ends on leaving running, or on leaving stopping/deleting that kept it open (row.stoppedAt still null).
  const runOpen = row.status === "running" || (row.runningSince !== null && row.stoppedAt === null);
  if (to === "running" && row.status !== "running") {
    // A run the cloud kept charging through a stop (billedWhileStopped) goes on; any other running opens a new one.
    if (!runOpen) {
      if (row.runningSince !== null) await ctx.bus.emit("instance.run-reopening", { tx, instanceId: row.id });
      set.runningSince = at;
    }
    set.stoppedAt = null;
  }
  if (runOpen && to !== "running" && !change.keepBilling && !cloudStillCharges(row, to, change.set)) {
    const end = change.endedAt ?? at;
    // Never before the run began (a lost instance last seen before this run's start).
    set.stoppedAt = row.runningSince && end < row.runningSince ? row.runningSince : end;
  }
  if (to === "deleted") set.deletedAt = now;
  const [updated] = await tx
    .update(instances)
    .set(set)
    .where(and(eq(instances.id, row.id), eq(instances.status, row.status)))
    .returning();
  if (!updated) throw new Error(`instance ${row.id} left ${row.status} while locked`);
  await emitEvent(tx, row.tenantId, `instance.${to}`, eventData(updated, row.status, change.data), now);
  await ctx.bus.emit("instance.transitioned", { tx, before: row, after: updated, reason: change.reason ?? null });
  return updated;
}

/**
 * The cloud keeps charging the instance's copy while stopped at the full price (Verda's shut-down instances): its run
 * stays open through stopped and a start, until it is deleted, fails, or its cloud copy is gone.
 */
function cloudStillCharges(row: InstanceRow, to: InstanceStatus, set: Partial<InstanceRow> | undefined): boolean {
  if (row.billedWhileStopped !== "full" || to === "deleted" || to === "failed") return false;
  const ref = set && "providerRef" in set ? set.providerRef : row.providerRef;
  return ref !== null && ref !== undefined;
}

export function eventData(row: InstanceRow, previous: string | null, extra?: Record<string, unknown>) {
  return {
    instance_id: row.id,
    name: row.name,
    status: row.status,
    previous_status: previous,
    reason: row.statusReason,
    instance_type: row.requestedType,
    region: row.regionId,
    ip_address: row.ipAddress,
    ...extra,
  };
}
