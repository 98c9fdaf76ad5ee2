import { and, asc, eq, inArray, isNull, lt, or, sql } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import { instances, upstreamLaunches, volumes } from "../../db/schema/index.js";
import { UpstreamError } from "../../providers/upstream/errors.js";
import { tagFor, type UpstreamCloud } from "../../providers/upstream/types.js";
import { markInstanceFailed } from "../instances/lifecycle.js";
import { lockInstance, transition } from "../instances/record.js";
import type { InstanceRow } from "../instances/row.js";
import { providers } from "../placement/registry.js";
import type { Candidate, UpstreamProviders } from "../placement/upstream.js";
import { authorizedKeys } from "../terminal/keys.js";
import type { VolumeRow } from "../volumes/volumes.js";
import { waitlistOrder } from "../waitlist/orders.js";
import { resaleBilling } from "./billing-rule.js";

/** A claim lasts this long: past it, the launch is taken up again (its worker crashed) and adopts what it finds. */
const LEASE_MS = 120_000;
const CLAIM_BATCH = 32;
/** After this many passes that could not reach any offer (clouds down, not refusing), the instance fails. */
const MAX_ATTEMPTS = 8;
/** How often an order waiting for capacity (waitlist) tries its plan again. */
const WAITLIST_RETRY_MS = 60_000;

type LaunchRow = typeof upstreamLaunches.$inferSelect;
interface Claim {
  launch: LaunchRow;
  instance: InstanceRow;
}
interface Tried {
  provider: string;
  region: string;
  reason: string;
  /** The cloud refused for lack of capacity (what a wait can cure). */
  capacity?: boolean;
}
export interface LaunchStats {
  launched: number;
  adopted: number;
  failedOver: number;
  failed: number;
  deferred: number;
  /** Every offer refused for capacity and the customer asked to wait: still ordered, tried again later. */
  waitlisted: number;
}

/**
 * One pass of the provisioning worker: claims ordered upstream instances (FOR UPDATE SKIP LOCKED plus a lease, so two
 * replicas never launch the same one) and launches each outside any transaction, tagged `gp-<instance id>`.
 */
export async function runLaunches(ctx: AppContext): Promise<LaunchStats> {
  const stats: LaunchStats = { launched: 0, adopted: 0, failedOver: 0, failed: 0, deferred: 0, waitlisted: 0 };
  const upstream = providers(ctx).upstream;
  if (!upstream) return stats;
  for (;;) {
    const claims = await claimLaunches(ctx, CLAIM_BATCH);
    await Promise.all(
      claims.map((claim) =>
        launchOne(ctx, upstream, claim, stats).catch((error) =>
          ctx.log.error({ err: error, instance: claim.instance.id }, "provisioning: launch failed unexpectedly"),
        ),
      ),
    );
    if (claims.length < CLAIM_BATCH) return stats;
  }
}

export async function claimLaunches(ctx: AppContext, limit: number): Promise<Claim[]> {
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const rows = await tx
      .select({ launch: upstreamLaunches, instance: instances })
      .from(upstreamLaunches)
      .innerJoin(instances, eq(instances.id, upstreamLaunches.instanceId))
      .where(
        and(
          eq(instances.status, "ordered"),
          or(isNull(upstreamLaunches.leaseUntil), lt(upstreamLaunches.leaseUntil, now)),
        ),
      )
      .orderBy(asc(instances.createdAt))
      .limit(limit)
      .for("update", { of: upstreamLaunches, skipLocked: true });
    if (!rows.length) return [];
    // The first claim of a launch sequence bounds when the cloud's charge can have begun (before any create call).
    await tx
      .update(upstreamLaunches)
      .set({
        leaseUntil: new Date(now.getTime() + LEASE_MS),
        attempts: sql`${upstreamLaunches.attempts} + 1`,
        firstClaimedAt: sql`case when ${upstreamLaunches.attempts} = 0 or ${upstreamLaunches.firstClaimedAt} is null
          then ${now.toISOString()}::timestamptz else ${upstreamLaunches.firstClaimedAt} end`,
      })
      .where(
        inArray(
          upstreamLaunches.instanceId,
          rows.map((r) => r.launch.instanceId),
        ),
      );
    return rows.map((r) => ({
      ...r,
      launch: {
        ...r.launch,
        attempts: r.launch.attempts + 1,
        firstClaimedAt: r.launch.attempts === 0 || !r.launch.firstClaimedAt ? now : r.launch.firstClaimedAt,
      },
    }));
  });
}

/**
 * Walks the plan from its next offer. A capacity refusal (or a hard refusal) moves on to the next offer, cheapest
 * first; a 5xx or a timeout first looks for the instance by its tag (the launch may have happened and only the
 * answer been lost) and otherwise leaves the claim for a later pass. Only when no offer is left does it fail.
 */
async function launchOne(ctx: AppContext, upstream: UpstreamProviders, claim: Claim, stats: LaunchStats) {
  const { launch, instance } = claim;
  const candidates = launch.candidates as Candidate[];
  const tried = [...(launch.tried as Tried[])];
  const tag = tagFor(instance.id);
  const attached = await ctx.db
    .select()
    .from(volumes)
    .where(and(eq(volumes.instanceId, instance.id), eq(volumes.status, "attached")));
  let unreachable = false;
  for (let index = launch.nextCandidate; index < candidates.length; index++) {
    const c = candidates[index];
    if (!upstream.clouds.has(c.provider) || upstream.isOpen(c.provider)) {
      unreachable = true;
      tried.push({ provider: c.provider, region: c.upstreamRegion, reason: "paused: the provider keeps failing" });
      continue;
    }
    const cloud = upstream.cloud(c.provider);
    // The customer's volumes go with the instance: only to a cloud that carries them, in their own region.
    const noVolumes = attached.length ? volumeMismatch(cloud, c, attached) : null;
    if (noVolumes) {
      tried.push({ provider: c.provider, region: c.upstreamRegion, reason: noVolumes });
      continue;
    }
    try {
      // A second attempt may follow a launch whose answer was lost (or a crash): adopt before launching again.
      const found = launch.attempts > 1 ? await findByTag(cloud, tag) : null;
      const upstreamId =
        found ??
        (await cloud.launch({
          name: tag,
          upstreamType: c.upstreamType,
          upstreamRegion: c.upstreamRegion,
          image: c.upstreamImage ?? instance.imageId,
          sshPublicKeys: authorizedKeys(ctx, instance),
          ...(attached.length ? { volumeIds: await upstreamVolumes(ctx, cloud, c, attached) } : {}),
          // Planned only onto clouds that take them (UpstreamProviders.provision): the customer's container settings.
          ...(cloud.containerOptions ? containerLaunch(instance) : {}),
        }));
      upstream.noteOk(c.provider);
      await commitLaunch(ctx, cloud, launch, c, upstreamId, index, tried);
      if (found) stats.adopted++;
      else stats.launched++;
      if (index > launch.nextCandidate) stats.failedOver++;
      return;
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error;
      ctx.log.warn(
        { err: error, provider: c.provider, request_id: error.requestId, instance: instance.id },
        "provisioning: upstream launch refused or failed",
      );
      if (error.kind === "auth") upstream.noteError(c.provider, error);
      if (error.kind === "transient" || error.kind === "malformed") {
        const found = await findByTag(cloud, tag).catch(() => null);
        if (found) {
          await commitLaunch(ctx, cloud, launch, c, found, index, tried);
          stats.adopted++;
          return;
        }
        if (launch.attempts < MAX_ATTEMPTS) {
          await deferLaunch(ctx, instance.id, index, tried, launch.attempts);
          stats.deferred++;
          return;
        }
      }
      tried.push({
        provider: c.provider,
        region: c.upstreamRegion,
        reason: error.message,
        ...(error.kind === "capacity" ? { capacity: true } : {}),
      });
    }
  }
  if (unreachable && launch.attempts < MAX_ATTEMPTS) {
    await deferLaunch(ctx, instance.id, launch.nextCandidate, launch.tried as Tried[], launch.attempts);
    stats.deferred++;
    return;
  }
  if (launch.waitlist && tried.length && tried.every((t) => t.capacity)) {
    await waitForCapacity(ctx, instance.id, tried);
    stats.waitlisted++;
    return;
  }
  stats.failed++;
  await ctx.db
    .update(upstreamLaunches)
    .set({ tried, leaseUntil: null })
    .where(eq(upstreamLaunches.instanceId, instance.id));
  const why = tried.map((t) => `${t.provider} ${t.region}: ${t.reason}`).join("; ");
  await markInstanceFailed(ctx, instance.id, `no upstream could launch it (${why})`);
}

function volumeMismatch(cloud: UpstreamCloud, c: Candidate, attached: VolumeRow[]): string | null {
  if (!cloud.volumes) return `${c.provider} does not carry gpuplane volumes; the instance has ${attached.length}`;
  const elsewhere = attached.find((v) => v.regionId !== c.regionId);
  if (elsewhere) return `volume ${elsewhere.id} is in ${elsewhere.regionId}, not ${c.regionId}`;
  return null;
}

/**
 * The cloud's ids of the instance's volumes, each created there on its first launch (Verda `POST /volumes` in the
 * location, adopted by its name when an earlier create's answer was lost) and its id kept on the volume row at once,
 * so a retry, a later instance or the volume's delete finds it.
 */
async function upstreamVolumes(ctx: AppContext, cloud: UpstreamCloud, c: Candidate, attached: VolumeRow[]) {
  const ids: string[] = [];
  for (const v of attached) {
    if (v.upstreamRef && v.upstreamProvider === c.provider) {
      ids.push(v.upstreamRef);
      continue;
    }
    // Named after gpuplane's volume: a create whose answer was lost (or a crash before the id was stored) is found
    // by its name on the retry, not created a second time.
    const name = `gp-${v.id}`;
    const ref =
      (await cloud.volumes!.findByName(name, c.upstreamRegion)) ??
      (await cloud.volumes!.create({
        name,
        sizeGb: v.sizeGb,
        type: v.type === "hdd" ? "hdd" : "nvme",
        location: c.upstreamRegion,
      }));
    await ctx.db.update(volumes).set({ upstreamProvider: c.provider, upstreamRef: ref }).where(eq(volumes.id, v.id));
    v.upstreamProvider = c.provider;
    v.upstreamRef = ref;
    ids.push(ref);
  }
  return ids;
}

async function findByTag(cloud: UpstreamCloud, tag: string): Promise<string | null> {
  const listed = await cloud.list();
  return listed.find((u) => u.name === tag && u.state !== "gone")?.id ?? null;
}

/**
 * Records the launch and moves the instance to provisioning, billed from now on by the cloud's billing rule
 * (resaleBilling). If the customer stopped or deleted it meanwhile, the upstream instance is terminated at once (and,
 * should that fail, the orphan sweep finds it by its tag).
 */
async function commitLaunch(
  ctx: AppContext,
  cloud: UpstreamCloud,
  launch: LaunchRow,
  c: Candidate,
  upstreamId: string,
  index: number,
  tried: Tried[],
) {
  const instanceId = launch.instanceId;
  const cancelled = await ctx.db.transaction(async (tx) => {
    const row = await lockInstance(tx, instanceId, null);
    await tx
      .update(upstreamLaunches)
      .set({
        nextCandidate: index,
        tried,
        leaseUntil: null,
        upstreamCostPerHourMicros: BigInt(c.upstreamPriceMicros),
        costIncrementSeconds: Math.max(1, cloud.billing.incrementSeconds),
        // The cloud's create happened after this sequence's first claim (a lost answer adopted later included).
        launchedAt: launch.firstClaimedAt ?? ctx.clock.now(),
      })
      .where(eq(upstreamLaunches.instanceId, instanceId));
    if (row.status !== "ordered") return true;
    await transition(ctx, tx, row, "provisioning", {
      set: { provider: c.provider, regionId: c.regionId, providerRef: upstreamId, ...resaleBilling(row, cloud) },
    });
    return false;
  });
  if (cancelled) {
    await cloud
      .terminate([upstreamId])
      .catch((error) =>
        ctx.log.warn({ err: error, instance: instanceId }, "provisioning: could not terminate a cancelled launch"),
      );
  } else {
    ctx.kick("status-sync");
  }
}

/**
 * The customer asked to wait (`waitlist: true`): the order stays ordered, with why, joins the waitlist of its type
 * and region (src/domain/waitlist/orders.ts: listed with its position, `waitlist.*` events), and the whole plan is
 * tried again every WAITLIST_RETRY_MS, or sooner when the waitlist loop sees a cloud report room (its attempts start
 * over, so it never runs out of them while it waits).
 */
async function waitForCapacity(ctx: AppContext, instanceId: string, tried: Tried[]) {
  const why = tried.map((t) => `${t.provider} ${t.region}: ${t.reason}`).join("; ");
  await ctx.db
    .update(upstreamLaunches)
    .set({
      nextCandidate: 0,
      tried: [],
      attempts: 0,
      leaseUntil: new Date(ctx.clock.now().getTime() + WAITLIST_RETRY_MS),
    })
    .where(eq(upstreamLaunches.instanceId, instanceId));
  await waitlistOrder(
    ctx,
    instanceId,
    `waiting for capacity (every offer refused: ${why}); launches when one has room`,
  );
}

/** Leaves the launch for a later pass, backing off 2, 4, 8 … 60 s. */
async function deferLaunch(ctx: AppContext, instanceId: string, index: number, tried: Tried[], attempts: number) {
  const delay = Math.min(60_000, 1_000 * 2 ** attempts);
  await ctx.db
    .update(upstreamLaunches)
    .set({ nextCandidate: index, tried, leaseUntil: new Date(ctx.clock.now().getTime() + delay) })
    .where(eq(upstreamLaunches.instanceId, instanceId));
}

/** The instance's env (secret values too: the cloud's container needs them), start command, disk and ports. */
function containerLaunch(instance: InstanceRow) {
  return {
    env: Object.fromEntries(instance.env.map((v) => [v.name, v.value])),
    command: instance.command,
    diskGb: instance.diskGb,
    ports: instance.ports,
  };
}
