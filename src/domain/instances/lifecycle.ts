import { and, eq } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import type { Executor } from "../../db/client.js";
import { instances } from "../../db/schema/index.js";
import { conflict } from "../../lib/errors.js";
import { assertMinimumBalance } from "../billing/balance.js";
import { capacityFreed } from "../capacity.js";
import { emitEvent } from "../events/emit.js";
import { providers } from "../placement/registry.js";
import type { Provider, SshEndpoint } from "../placement/types.js";
import { assertQuota } from "../quota.js";
import { detachAll } from "../volumes/volumes.js";
import { applyPlacement, noCapacity } from "./create.js";
import { eventData, lockInstance, transition } from "./record.js";
import type { InstanceRow } from "./row.js";
import { assertAllowed, type InstanceStatus } from "./states.js";

/** Who asked: a customer's key, an operator, or the system (billing auto-stop, status sync). */
export type Actor = "user" | "operator" | "system";

export interface InstanceAction {
  /** null = any tenant (operators and the system). */
  tenantId: number | null;
  instanceId: string;
  reason?: string;
  actor: Actor;
}

/**
 * running → stopped. The provider gives the GPUs back; disk and volumes stay. Billing's auto-stop calls this. On an
 * upstream cloud: running → stopping, billed until the status sync sees the cloud's stop (the call runs after the
 * commit; should it fail, the instance is back as it was and the caller gets the cloud's 409 or 502).
 */
export async function stopInstance(ctx: AppContext, action: InstanceAction): Promise<InstanceRow> {
  let later: { provider: Provider; before: InstanceRow } | null = null;
  const row = await ctx.db.transaction(async (tx) => {
    const row = await lockInstance(tx, action.instanceId, action.tenantId);
    assertAllowed(row, "stop");
    const provider = providers(ctx).byName(row.provider);
    const base = action.reason ?? `stopped by ${action.actor}`;
    // A node agent's container: billed and holding its GPUs until the agent confirms the stop.
    if (await provider.awaitsStop?.(ctx, tx, row)) {
      return transition(ctx, tx, row, "stopping", { reason: base, keepBilling: true, data: { actor: action.actor } });
    }
    const note = await provider.stop(ctx, tx, row);
    const reason = note ? `${base}; ${note}` : base;
    if (provider.confirmsLater?.(row)) {
      later = { provider, before: row };
      return transition(ctx, tx, row, "stopping", { reason, keepBilling: true, data: { actor: action.actor } });
    }
    return transition(ctx, tx, row, "stopped", { reason, set: { ipAddress: null }, data: { actor: action.actor } });
  });
  if (later) return requestAfterCommit(ctx, later, row, "stop");
  ctx.kick("meter");
  // After the commit, so the waitlist's pass sees the capacity given back (here and wherever capacity frees).
  capacityFreed(ctx);
  return row;
}

/** stopped → provisioning (→ running). Quota, balance and capacity are checked again, as on create. */
export async function startInstance(ctx: AppContext, action: InstanceAction): Promise<InstanceRow> {
  let later: { provider: Provider; before: InstanceRow } | null = null;
  const row = await ctx.db.transaction(async (tx) => {
    const row = await lockInstance(tx, action.instanceId, action.tenantId);
    assertAllowed(row, "start");
    await assertQuota(tx, row.tenantId, row.gpuCount);
    await assertMinimumBalance(ctx, tx, row.tenantId, row.pricePerHourMicros);
    const provider = providers(ctx).byName(row.provider);
    const placement = await provider.start(ctx, tx, row);
    if (!placement) throw noCapacity(row.requestedType, row.regionId);
    if (!placement.deferred && provider.confirmsLater?.(row)) later = { provider, before: row };
    return applyPlacement(ctx, tx, row, placement);
  });
  if (later) return requestAfterCommit(ctx, later, row, "start");
  ctx.kick("status-sync");
  return row;
}

/**
 * → deleting → deleted. Idempotent: deleting an instance that is already deleting or deleted returns it as it is,
 * so a retried DELETE never fails. Attached volumes are detached and kept. On an upstream cloud the instance stays
 * deleting, billed, until the status sync no longer sees it upstream; a failed terminate call is sent again by the
 * status sync, so the answer is still `deleting`.
 */
export async function deleteInstance(ctx: AppContext, action: InstanceAction): Promise<InstanceRow> {
  let later: { provider: Provider; before: InstanceRow } | null = null;
  const row = await ctx.db.transaction(async (tx) => {
    const row = await lockInstance(tx, action.instanceId, action.tenantId);
    if (row.status === "deleting" || row.status === "deleted") return row;
    const provider = providers(ctx).byName(row.provider);
    const confirmsLater = provider.confirmsLater?.(row) ?? false;
    await detachAll(ctx, tx, row);
    const awaits = await provider.awaitsStop?.(ctx, tx, row);
    const deleting = await transition(ctx, tx, row, "deleting", {
      reason: action.reason ?? `deleted by ${action.actor}`,
      data: { actor: action.actor },
      keepBilling: confirmsLater || awaits,
    });
    if (awaits) return deleting; // the agent removes the container, then confirmInstanceStopped
    const gone = await provider.delete(ctx, tx, deleting);
    if (confirmsLater && !gone) later = { provider, before: deleting };
    if (!gone) return deleting;
    return transition(ctx, tx, deleting, "deleted", {
      reason: deleting.statusReason,
      set: { ipAddress: null },
    });
  });
  if (later) {
    const { provider, before } = later as { provider: Provider; before: InstanceRow };
    await provider.request!(ctx, before, "delete").catch((error) =>
      ctx.log.warn(
        { err: error, instance: row.id },
        "delete: the cloud's terminate failed; the status sync resends it",
      ),
    );
    ctx.kick("status-sync");
    return row;
  }
  ctx.kick("meter");
  capacityFreed(ctx);
  return row;
}

/**
 * The cloud call behind a committed stop or start. Should it fail, the instance goes back to the state it was in
 * (its run untouched) and the caller gets the error (Verda's 409 for a provisioning instance, a 502). The customer was
 * already sent `instance.stopping` (or `instance.provisioning`), so the state it is put back to is sent too
 * (`instance.running`, `instance.stopped`, …, with `reverted: "stop"` and the cloud's reason): a webhook consumer's
 * view ends where the instance is.
 */
async function requestAfterCommit(
  ctx: AppContext,
  later: { provider: Provider; before: InstanceRow },
  row: InstanceRow,
  action: "start" | "stop",
): Promise<InstanceRow> {
  try {
    await later.provider.request!(ctx, later.before, action);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    await ctx.db.transaction(async (tx) => {
      const now = ctx.clock.now();
      // A plain update, not a transition: the run was never closed (stopping kept billing), so it is not reopened.
      const [back] = await tx
        .update(instances)
        .set({ status: later.before.status, statusReason: later.before.statusReason, updatedAt: now })
        .where(and(eq(instances.id, row.id), eq(instances.status, row.status)))
        .returning();
      if (!back) return; // moved on meanwhile (the status sync saw the cloud act): that transition told the customer
      await emitEvent(
        tx,
        back.tenantId,
        `instance.${back.status as InstanceStatus}`,
        eventData(back, row.status, { reason: `${action} failed, back to ${back.status}: ${why}`, reverted: action }),
        now,
      );
    });
    throw error;
  }
  ctx.kick("status-sync");
  return row;
}

/**
 * provisioning → running, with where to reach it. The node agent and the status sync call this. A repeated report
 * for a running instance updates its address without a new event.
 */
export async function markInstanceRunning(
  ctx: AppContext,
  instanceId: string,
  endpoint: SshEndpoint,
  /** When the provider says it started running (billing starts there); default now. */
  at?: Date,
): Promise<InstanceRow> {
  return ctx.db.transaction(async (tx) => {
    const row = await lockInstance(tx, instanceId, null);
    if (row.status === "running") {
      const samePorts =
        !endpoint.portMappings || JSON.stringify(endpoint.portMappings) === JSON.stringify(row.portMappings);
      const same =
        row.ipAddress === endpoint.ipAddress && row.sshUser === endpoint.sshUser && row.sshPort === endpoint.sshPort;
      if (same && samePorts) return row;
      const [updated] = await tx
        .update(instances)
        .set({ ...endpoint, updatedAt: ctx.clock.now() })
        .where(eq(instances.id, row.id))
        .returning();
      return updated;
    }
    if (row.status !== "provisioning") {
      throw conflict(`instance ${row.id} is ${row.status}; only a provisioning instance can become running`, {
        status: row.status,
      });
    }
    return transition(ctx, tx, row, "running", { set: { ...endpoint }, at });
  });
}

/**
 * The provider lost the instance (host gone, upstream dropped it): `instance.lost`, then failed with the reason.
 * Its capacity is given back. Instances not live (stopped, deleted, failed) are left as they are.
 */
export async function markInstanceLost(
  ctx: AppContext,
  instanceId: string,
  reason: string,
  /** When it was last known alive (billing stops there); default now. */
  at?: Date,
): Promise<InstanceRow> {
  const row = await ctx.db.transaction(async (tx) => {
    const row = await lockInstance(tx, instanceId, null);
    if (!["ordered", "provisioning", "running"].includes(row.status)) return row;
    await emitEvent(tx, row.tenantId, "instance.lost", eventData(row, row.status, { reason }), ctx.clock.now());
    await releaseCapacity(ctx, tx, row);
    return transition(ctx, tx, row, "failed", { reason: `lost: ${reason}`, set: { ipAddress: null }, at });
  });
  ctx.kick("meter");
  capacityFreed(ctx);
  return row;
}

/** Provisioning failed at the provider: failed with the provider's reason; capacity is given back. */
export async function markInstanceFailed(ctx: AppContext, instanceId: string, reason: string): Promise<InstanceRow> {
  const row = await ctx.db.transaction(async (tx) => {
    const row = await lockInstance(tx, instanceId, null);
    if (!["ordered", "provisioning"].includes(row.status)) return row;
    await releaseCapacity(ctx, tx, row);
    return transition(ctx, tx, row, "failed", { reason });
  });
  capacityFreed(ctx);
  return row;
}

/** The provider finished tearing down an instance that was left deleting (until then it holds its capacity). */
export async function markInstanceDeleted(
  ctx: AppContext,
  instanceId: string,
  /** When the provider's copy ended (a run kept open while deleting is billed up to there); default now. */
  at?: Date,
): Promise<InstanceRow> {
  const row = await ctx.db.transaction(async (tx) => {
    const row = await lockInstance(tx, instanceId, null);
    if (row.status !== "deleting") return row;
    // A run kept open while deleting (an upstream cloud) ends here, when the provider confirms.
    return transition(ctx, tx, row, "deleted", { reason: row.statusReason, set: { ipAddress: null }, at });
  });
  ctx.kick("meter");
  capacityFreed(ctx);
  return row;
}

/** A lost or failed instance gives its capacity back without the provider being asked to stop it. */
async function releaseCapacity(ctx: AppContext, tx: Executor, row: InstanceRow): Promise<void> {
  const provider = providers(ctx).byName(row.provider);
  await (provider.release ? provider.release(ctx, tx, row) : provider.stop(ctx, tx, row));
}

/**
 * The node agent saw the instance's container stop (`removed`: and removed) at `at`: a stopping instance is stopped,
 * a deleting one (on `removed` only) deleted; the run ends at `at`, never before what was already billed nor after
 * now; the GPUs are given back. Also settles both when the node is marked down (nothing runs there any more). Any
 * other state is left as it is, so a repeated report is a no-op.
 */
export async function confirmInstanceStopped(
  ctx: AppContext,
  instanceId: string,
  report: { removed: boolean; at?: Date },
): Promise<InstanceRow> {
  const row = await ctx.db.transaction(async (tx) => {
    const row = await lockInstance(tx, instanceId, null);
    if (row.status !== "stopping" && !(row.status === "deleting" && report.removed)) return row;
    const provider = providers(ctx).byName(row.provider);
    const change = { reason: row.statusReason, set: { ipAddress: null }, endedAt: runEnd(row, report.at, ctx) };
    if (row.status === "stopping") {
      await provider.stop(ctx, tx, row);
      return transition(ctx, tx, row, "stopped", change);
    }
    await provider.delete(ctx, tx, row);
    return transition(ctx, tx, row, "deleted", change);
  });
  ctx.kick("meter");
  capacityFreed(ctx);
  return row;
}

function runEnd(row: InstanceRow, at: Date | undefined, ctx: AppContext): Date {
  const now = ctx.clock.now().getTime();
  const floor = Math.max(row.runningSince?.getTime() ?? 0, row.meteredUntil?.getTime() ?? 0);
  return new Date(Math.min(now, Math.max(floor, at?.getTime() ?? now)));
}
