import { and, eq, inArray, sql } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import { instances, upstreamLaunches, upstreamProviders } from "../../db/schema/index.js";
import { textArray } from "../../db/sql.js";
import { UpstreamError } from "../../providers/upstream/errors.js";
import type { UpstreamCloud, UpstreamInstance, UpstreamName } from "../../providers/upstream/types.js";
import { capacityFreed } from "../capacity.js";
import { emitEvent } from "../events/emit.js";
import {
  markInstanceDeleted,
  markInstanceFailed,
  markInstanceLost,
  markInstanceRunning,
} from "../instances/lifecycle.js";
import { lockInstance, transition } from "../instances/record.js";
import { itemFailed } from "../loops/isolate.js";
import { providers } from "../placement/registry.js";
import type { UpstreamProviders } from "../placement/upstream.js";
import { sweepOrphans, sweepVolumeOrphans } from "./orphans.js";
import { DEFAULT_PROVISIONING_TIMEOUT_SECONDS } from "./settings.js";

export interface ReconcileStats {
  provider: UpstreamName;
  listed: number;
  running: number;
  lost: number;
  failed: number;
  deleted: number;
  stopped: number;
  orphans: number;
  /** Upstream volumes gpuplane no longer sells (clouds with volumes: Verda). */
  orphanVolumes?: number;
  error?: string;
}

type Row = Pick<
  typeof instances.$inferSelect,
  | "id"
  | "status"
  | "providerRef"
  | "ipAddress"
  | "sshPort"
  | "sshUser"
  | "runningSince"
  | "stoppedAt"
  | "updatedAt"
  | "portMappings"
> & { launchedAt: Date | null; lastSeenAt: Date | null };

const rowColumns = {
  id: instances.id,
  status: instances.status,
  providerRef: instances.providerRef,
  portMappings: instances.portMappings,
  ipAddress: instances.ipAddress,
  sshPort: instances.sshPort,
  sshUser: instances.sshUser,
  runningSince: instances.runningSince,
  stoppedAt: instances.stoppedAt,
  updatedAt: instances.updatedAt,
  launchedAt: upstreamLaunches.launchedAt,
  lastSeenAt: upstreamLaunches.lastSeenAt,
};

/** A stop or terminate the cloud has not carried out after this long is sent again (its call failed, or we crashed). */
const RESEND_MS = 30_000;

/**
 * One reconciliation pass over every resold cloud: one list call per cloud, compared with gpuplane's records in
 * memory; only instances whose state changed get a transaction. A cloud that cannot be listed (down, wrong
 * credential, an answer that does not parse) is logged with its request id and its instances keep their last known
 * state: not listed because the call failed never means lost.
 */
export async function reconcileUpstreams(ctx: AppContext): Promise<ReconcileStats[]> {
  const upstream = providers(ctx).upstream;
  if (!upstream) return [];
  // One cloud's failure (past its own list call, which reconcileOne already absorbs) must not hold up the others.
  const passes = await Promise.allSettled([...upstream.clouds.keys()].map((name) => reconcileOne(ctx, upstream, name)));
  return passes.flatMap((pass, i) => {
    if (pass.status === "fulfilled") return [pass.value];
    itemFailed(ctx, "status-sync", [...upstream.clouds.keys()][i], pass.reason);
    return [];
  });
}

async function reconcileOne(ctx: AppContext, upstream: UpstreamProviders, name: UpstreamName): Promise<ReconcileStats> {
  const stats: ReconcileStats = {
    provider: name,
    listed: 0,
    running: 0,
    lost: 0,
    failed: 0,
    deleted: 0,
    stopped: 0,
    orphans: 0,
  };
  let listed: UpstreamInstance[];
  try {
    listed = await upstream.cloud(name).list();
  } catch (error) {
    upstream.noteError(name, error);
    stats.error = (error as Error).message;
    ctx.log.warn(
      { err: error, provider: name, request_id: error instanceof UpstreamError ? error.requestId : null },
      "status sync: could not list the upstream's instances; keeping their last known state",
    );
    await recordHealth(ctx, name, stats.error);
    // Unknown is not "still running": stops and deletes asked for go on being sent, list or no list.
    await resendPending(ctx, name);
    return stats;
  }
  upstream.noteOk(name);
  await recordHealth(ctx, name, null);
  stats.listed = listed.length;
  const now = ctx.clock.now();
  const rows: Row[] = await ctx.db
    .select(rowColumns)
    .from(instances)
    .leftJoin(upstreamLaunches, eq(upstreamLaunches.instanceId, instances.id))
    .where(
      and(
        eq(instances.provider, name),
        inArray(instances.status, ["ordered", "provisioning", "running", "stopping", "stopped", "deleting"]),
      ),
    );
  const cloud = upstream.cloud(name);
  const timeoutMs = (await provisioningTimeoutSeconds(ctx, name)) * 1000;
  const byId = new Map(listed.map((u) => [u.id, u]));
  const claimed = new Set<string>();
  const inFlight = new Set<string>();
  const alive: string[] = [];
  const missing: Row[] = [];
  for (const row of rows) {
    if (row.status === "ordered") {
      inFlight.add(row.id); // a launch in flight: its tagged upstream instance is not an orphan
      continue;
    }
    const u = row.providerRef ? byId.get(row.providerRef) : undefined;
    if (u) claimed.add(u.id);
    if (u && u.state !== "gone" && u.state !== "failed") alive.push(row.id);
    if (!u || u.state === "gone") {
      missing.push(row);
      continue;
    }
    try {
      if (row.status === "provisioning" && now.getTime() - row.updatedAt.getTime() >= timeoutMs && !reachable(u)) {
        await timeOut(ctx, cloud, name, row, u, timeoutMs);
        stats.failed++;
        continue;
      }
      const outcome = await applyListed(ctx, cloud, name, row, u);
      if (outcome) stats[outcome]++;
    } catch (error) {
      itemFailed(ctx, `status-sync:${name}`, row.id, error);
    }
  }
  if (missing.length) await applyMissing(ctx, name, missing, byId, stats);
  if (alive.length) {
    await ctx.db
      .update(upstreamLaunches)
      .set({ lastSeenAt: now })
      .where(sql`${upstreamLaunches.instanceId} = any(${textArray(alive)}::text[])`);
  }
  stats.orphans = await sweepOrphans(ctx, upstream, name, listed, claimed, inFlight);
  if (cloud.volumes?.list) {
    // Volumes are reconciled as instances are; a volume list that fails leaves them for the next pass.
    try {
      stats.orphanVolumes = await sweepVolumeOrphans(ctx, name, await cloud.volumes.list(), listed);
    } catch (error) {
      ctx.log.warn({ err: error, provider: name }, "status sync: could not reconcile the upstream's volumes");
    }
  }
  return stats;
}

const reachable = (u: UpstreamInstance) => Boolean(u.state === "running" && u.ipAddress && u.sshPort);

/** The upstream lists the instance: carry its state over. An unknown status keeps the last known state. */
async function applyListed(ctx: AppContext, cloud: UpstreamCloud, name: UpstreamName, row: Row, u: UpstreamInstance) {
  if (row.status === "deleting") return resendIfStale(ctx, name, row, "delete");
  if (row.status === "stopping" && u.state !== "stopped" && u.state !== "failed") {
    return resendIfStale(ctx, name, row, "stop");
  }
  switch (u.state) {
    case "running": {
      if (!reachable(u)) return null; // running without an address yet: it appears on a later pass
      const endpoint = {
        ipAddress: u.ipAddress!,
        sshPort: u.sshPort!,
        sshUser: row.sshUser ?? u.sshUser,
        ...(u.ports ? { portMappings: u.ports } : {}),
      };
      if (row.status === "provisioning") {
        await markInstanceRunning(ctx, row.id, { ...endpoint, sshUser: u.sshUser }, runStart(cloud, row, u));
        return "running" as const;
      }
      // A new address or SSH port (RunPod maps port 22 anew on every restart).
      const moved = row.ipAddress !== endpoint.ipAddress || row.sshPort !== endpoint.sshPort;
      if (
        row.status === "running" &&
        (moved || (u.ports && JSON.stringify(u.ports) !== JSON.stringify(row.portMappings)))
      ) {
        await markInstanceRunning(ctx, row.id, endpoint);
      }
      return null;
    }
    case "stopped":
      if (row.status !== "running" && row.status !== "stopping") return null;
      await markStoppedUpstream(ctx, row.id, `${name} reports it ${u.status}`, await stopEnd(ctx, cloud, row));
      return "stopped" as const;
    case "failed":
      if (row.status === "stopping") {
        await markStoppedUpstream(ctx, row.id, `${name} reports it ${u.status}`, await stopEnd(ctx, cloud, row));
        return "stopped" as const;
      }
      if (row.status === "provisioning") {
        await markInstanceFailed(ctx, row.id, `${name} reports it ${u.status}`);
        return "failed" as const;
      }
      if (row.status === "running") {
        await markInstanceLost(ctx, row.id, `${name} reports it ${u.status}`);
        return "lost" as const;
      }
      return null;
    case "unknown":
      ctx.log.warn(
        { provider: name, instance: row.id, upstream_status: u.status },
        "status sync: unknown upstream status",
      );
      return null;
    default:
      return null;
  }
}

/**
 * Gone upstream (no longer listed, or listed terminated): a deleting instance is deleted; a live one is lost, billed
 * only up to the last pass that saw it alive; a stopped one forgets its upstream copy, so a start launches anew.
 */
async function applyMissing(
  ctx: AppContext,
  name: UpstreamName,
  rows: Row[],
  byId: Map<string, UpstreamInstance>,
  stats: ReconcileStats,
) {
  const seen = await ctx.db
    .select({ id: upstreamLaunches.instanceId, lastSeenAt: upstreamLaunches.lastSeenAt })
    .from(upstreamLaunches)
    .where(sql`${upstreamLaunches.instanceId} = any(${textArray(rows.map((r) => r.id))}::text[])`);
  const lastSeen = new Map(seen.map((s) => [s.id, s.lastSeenAt]));
  // A cloud whose charge ends when its copy is gone (Verda, RunPod) is billed up to this pass, the first to see it
  // gone: never less than the cloud; one whose charge ends at the call (Lambda), up to the call.
  const endsAtCall = providers(ctx).upstream!.cloud(name).billing.endsAt === "call";
  const end = (row: Row) => (endsAtCall ? confirmedEnd(row, lastSeen.get(row.id)) : undefined);
  for (const row of rows) {
    const u = row.providerRef ? byId.get(row.providerRef) : undefined;
    const reason = u ? `${name} reports it ${u.status}` : `${name} no longer lists it`;
    try {
      if (row.status === "deleting") {
        await markInstanceDeleted(ctx, row.id, end(row));
        stats.deleted++;
      } else if (row.status === "stopping") {
        await markStoppedUpstream(ctx, row.id, reason, end(row), true);
        stats.stopped++;
      } else if (row.status === "provisioning" || row.status === "running") {
        await markInstanceLost(ctx, row.id, reason, lastSeen.get(row.id) ?? row.runningSince ?? undefined);
        stats.lost++;
      } else if (row.status === "stopped") {
        // A run its cloud kept charging while stopped ends here, with the cloud's copy.
        await ctx.db
          .update(instances)
          .set({
            providerRef: null,
            stoppedAt: sql`case when ${instances.runningSince} is not null and ${instances.stoppedAt} is null
              then ${ctx.clock.now().toISOString()}::timestamptz else ${instances.stoppedAt} end`,
          })
          .where(and(eq(instances.id, row.id), eq(instances.status, "stopped")));
        ctx.kick("meter");
      }
    } catch (error) {
      ctx.log.warn({ err: error, instance: row.id, provider: name }, "status sync: could not apply a gone instance");
    }
  }
}

/**
 * The upstream reports it stopped (on its own, or as asked: stopping): billing stops at `at` (default now). Gone while
 * stopping, its upstream copy is forgotten: a start launches anew.
 */
async function markStoppedUpstream(ctx: AppContext, instanceId: string, reason: string, at?: Date, gone = false) {
  await ctx.db.transaction(async (tx) => {
    const row = await lockInstance(tx, instanceId, null);
    if (row.status !== "running" && row.status !== "stopping") return;
    const set = { ipAddress: null, ...(gone ? { providerRef: null } : {}) };
    // A stop the customer asked for keeps its reason (RunPod's note that the container disk is wiped).
    const why = row.status === "stopping" ? (row.statusReason ?? reason) : reason;
    await transition(ctx, tx, row, "stopped", { reason: why, set, at, data: { actor: "upstream" } });
  });
  ctx.kick("meter");
  capacityFreed(ctx);
}

/**
 * When a stop or delete the customer asked for ended upstream, as far as the cloud lets us know (its lists carry no
 * stop time): the last pass that still saw it running, never before the request. Exact when the cloud acts within
 * a pass (Lambda, RunPod); at most one pass short of a slow one (Verda's shutdown), never billing unseen time.
 */
function confirmedEnd(row: Row, lastSeen: Date | null | undefined): Date | undefined {
  if (row.status !== "stopping" && row.status !== "deleting") return undefined;
  return lastSeen && lastSeen > row.updatedAt ? lastSeen : row.updatedAt;
}

async function stopEnd(ctx: AppContext, cloud: UpstreamCloud, row: Row): Promise<Date | undefined> {
  // The cloud's charge ends when it has stopped it, not at our request: bill up to this pass that sees it stopped.
  if (row.status !== "stopping" || cloud.billing.endsAt !== "call") return undefined;
  const [seen] = await ctx.db
    .select({ lastSeenAt: upstreamLaunches.lastSeenAt })
    .from(upstreamLaunches)
    .where(eq(upstreamLaunches.instanceId, row.id));
  return confirmedEnd(row, seen?.lastSeenAt);
}

/** A stop or delete still not done upstream after RESEND_MS: ask the cloud again (an idempotent call). */
async function resendIfStale(ctx: AppContext, name: UpstreamName, row: Row, action: "stop" | "delete") {
  if (ctx.clock.now().getTime() - row.updatedAt.getTime() < RESEND_MS) return null;
  const cloud = providers(ctx).upstream!.cloud(name);
  await (action === "stop" ? cloud.stop(row.providerRef!) : cloud.terminate([row.providerRef!]));
  await ctx.db
    .update(instances)
    .set({ updatedAt: ctx.clock.now() })
    .where(and(eq(instances.id, row.id), eq(instances.status, row.status)));
  return null;
}

/**
 * When the customer's run starts, by the cloud's billing rule: where the cloud charges from the launch (Verda,
 * RunPod), from the launch's first claim (before its create call) or, on a start of a stopped instance, from the start
 * request (the instance entered provisioning before the cloud was asked). Where it charges from running (Lambda's
 * `active`): when the cloud says it started, if it says; else it may have started any time since the last pass that
 * saw it not yet running, so from that pass (or the launch, or the start request, if no pass saw it since): never
 * after the cloud's charge began, at most one pass before it. Billed only once it runs: one that never does is failed
 * at the timeout, never billed.
 */
function runStart(cloud: UpstreamCloud, row: Row, u: UpstreamInstance): Date | undefined {
  const restart = row.stoppedAt !== null && (row.launchedAt === null || row.launchedAt < row.stoppedAt);
  const asked = restart ? row.updatedAt : (row.launchedAt ?? row.updatedAt);
  if (cloud.billing.startsAt === "launch") return asked;
  if (u.runningSince) return u.runningSince;
  return row.lastSeenAt && row.lastSeenAt > asked ? row.lastSeenAt : asked;
}

/**
 * Provisioning past the provider's timeout (an image without sshd, Verda's `installation_failed`, an instance stuck
 * `pending`): terminated upstream, failed with the reason, the operator told (`provider.provisioning_timeout`). Never
 * billed: its run starts only once it runs. A terminate that fails leaves a tagged instance the orphan sweep finds.
 */
async function timeOut(
  ctx: AppContext,
  cloud: UpstreamCloud,
  name: UpstreamName,
  row: Row,
  u: UpstreamInstance | undefined,
  timeoutMs: number,
) {
  const minutes = Math.round(timeoutMs / 60_000);
  const upstreamStatus = u ? u.status : "not listed";
  if (row.providerRef) {
    await cloud
      .terminate([row.providerRef])
      .catch((error) =>
        ctx.log.warn(
          { err: error, provider: name, instance: row.id },
          "status sync: could not terminate a timed-out instance; the orphan sweep will",
        ),
      );
  }
  const reason = `not reachable within ${minutes} min on ${name} (its status: ${upstreamStatus}); terminated there, not billed`;
  const failed = await markInstanceFailed(ctx, row.id, reason);
  if (failed.status !== "failed") return;
  await emitEvent(
    ctx.db,
    null,
    "provider.provisioning_timeout",
    {
      provider: name,
      instance_id: row.id,
      tenant_id: failed.tenantId,
      upstream_id: row.providerRef,
      upstream_status: upstreamStatus,
      timeout_seconds: timeoutMs / 1000,
    },
    ctx.clock.now(),
  );
  ctx.log.warn({ provider: name, instance: row.id, upstream_status: upstreamStatus }, "provisioning timed out");
}

async function provisioningTimeoutSeconds(ctx: AppContext, name: UpstreamName): Promise<number> {
  const [row] = await ctx.db
    .select({ seconds: upstreamProviders.provisioningTimeoutSeconds })
    .from(upstreamProviders)
    .where(eq(upstreamProviders.name, name));
  return row?.seconds ?? DEFAULT_PROVISIONING_TIMEOUT_SECONDS;
}

/**
 * While a cloud cannot be listed, the stops and deletes customers asked for are sent again on the usual schedule
 * (RESEND_MS): the cloud may be billing for them, and a pass that cannot see it must not wait for one that can.
 */
async function resendPending(ctx: AppContext, name: UpstreamName) {
  const pending: Row[] = await ctx.db
    .select(rowColumns)
    .from(instances)
    .leftJoin(upstreamLaunches, eq(upstreamLaunches.instanceId, instances.id))
    .where(
      and(
        eq(instances.provider, name),
        inArray(instances.status, ["stopping", "deleting"]),
        sql`${instances.providerRef} is not null`,
      ),
    );
  for (const row of pending) {
    await resendIfStale(ctx, name, row, row.status === "stopping" ? "stop" : "delete").catch((error) =>
      itemFailed(ctx, `status-sync:${name}`, row.id, error),
    );
  }
}

/** The provider's health, for the operator (GET /api/v1/providers) and every replica. */
async function recordHealth(ctx: AppContext, name: UpstreamName, error: string | null) {
  const now = ctx.clock.now();
  const set = error ? { lastError: error, lastErrorAt: now } : { lastOkAt: now };
  await ctx.db
    .insert(upstreamProviders)
    .values({ name, ...set })
    .onConflictDoUpdate({ target: upstreamProviders.name, set });
}
