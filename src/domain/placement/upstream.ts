import { and, eq, inArray } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import type { Executor } from "../../db/client.js";
import { images, upstreamLaunches, upstreamOffers, upstreamProviders, volumes } from "../../db/schema/index.js";
import { ApiError, badRequest, conflict } from "../../lib/errors.js";
import { UpstreamError } from "../../providers/upstream/errors.js";
import type { ConfiguredCloud } from "../../providers/upstream/setup.js";
import type { UpstreamCloud, UpstreamName } from "../../providers/upstream/types.js";
import { upstreamImageFor } from "../catalog/images.js";
import type { InstanceType } from "../catalog/types.js";
import { containerAsks } from "../instances/container.js";
import type { InstanceRow } from "../instances/row.js";
import { billedWhileStoppedNote } from "../providers/billing-rule.js";
import type { Placement, Provider, ProvisionOptions } from "./types.js";

/** One launch option of a plan, cheapest first. */
export interface Candidate {
  provider: UpstreamName;
  upstreamType: string;
  upstreamRegion: string;
  regionId: string;
  upstreamPriceMicros: string;
  /** What this cloud launches for the instance's image (its image map); absent in plans made before the map. */
  upstreamImage?: string;
}

export interface UpstreamHealth {
  ok: boolean;
  error: string | null;
  at: Date | null;
}

/** How long the upstreams' availability answers are reused before they are asked again (in the background). */
const AVAILABILITY_TTL_MS = 5_000;

/**
 * Every resold cloud behind the one Provider interface. Creating commits the instance `ordered` with a launch plan
 * (the allowed offers, cheapest first); the provisioning worker calls the cloud after the commit. Stop, start and
 * delete need the cloud now: an open circuit breaker or a failing cloud answers 502 BAD_GATEWAY, never a 500.
 */
export class UpstreamProviders implements Provider {
  readonly name = "upstream" as const;
  readonly health = new Map<UpstreamName, UpstreamHealth>();
  private availability = new Map<UpstreamName, { at: number; available: Set<string> }>();
  private refreshing = new Map<UpstreamName, Promise<void>>();

  constructor(
    readonly clouds: Map<UpstreamName, ConfiguredCloud>,
    private now: () => number,
  ) {}

  cloud(name: string): UpstreamCloud {
    const entry = this.clouds.get(name as UpstreamName);
    if (!entry) throw new Error(`upstream '${name}' is not configured`);
    return entry.cloud;
  }

  isOpen(name: UpstreamName): boolean {
    return this.clouds.get(name)?.breaker.open ?? true;
  }

  /** Records the outcome of a call for the operator (/healthz, GET /providers). */
  noteOk(name: UpstreamName): void {
    this.health.set(name, { ok: true, error: null, at: new Date(this.now()) });
  }

  noteError(name: UpstreamName, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.health.set(name, { ok: false, error: message, at: new Date(this.now()) });
  }

  /** "At least one" where an upstream says it has capacity for the type in the region: clouds give no counts. */
  async capacity(ctx: AppContext, db: Executor, type: InstanceType, regionId: string): Promise<number> {
    const offers = await this.offersFor(db, type.id, regionId);
    return offers.some((o) => this.isAvailable(ctx, o)) ? 1 : 0;
  }

  async provision(
    ctx: AppContext,
    tx: Executor,
    row: InstanceRow,
    options: ProvisionOptions = {},
  ): Promise<Placement | null> {
    const offered = await this.offersFor(tx, row.instanceTypeId, options.regionPinned === false ? null : row.regionId);
    // Only the clouds the image is mapped to sell it (the image map, src/domain/catalog/images.ts).
    const [image] = options.image ? [options.image] : await tx.select().from(images).where(eq(images.id, row.imageId));
    const imageOn = new Map(offered.map((o) => [o.provider, image ? upstreamImageFor(image, o.provider) : null]));
    // Own images, env, start commands and ports go only to clouds that take them (RunPod); never silently dropped.
    const asks = containerAsks(options.container ?? row);
    if (asks.length) {
      const refused = [...new Set(offered.map((o) => o.provider))].filter(
        (p) => !this.clouds.get(p as UpstreamName)?.cloud.containerOptions,
      );
      for (const p of refused) imageOn.set(p, null);
      if (offered.length && refused.length === new Set(offered.map((o) => o.provider)).size) {
        throw badRequest(
          `${asks.join(", ")} ${asks.length > 1 ? "are" : "is"} not supported on provider ${refused.join(", ")}, the cloud${refused.length > 1 ? "s" : ""} selling ${row.requestedType} here; launch without them or choose a type sold on RunPod or the fleet`,
        );
      }
    }
    const imaged = offered.filter((o) => imageOn.get(o.provider));
    if (offered.length && !imaged.length) {
      const clouds = [...new Set(offered.map((o) => o.provider))].join(", ");
      throw badRequest(
        `image '${row.imageId}' is not offered on ${clouds}, the cloud${clouds.includes(",") ? "s" : ""} selling ${row.requestedType} here; choose another image (GET /api/v1/images shows each image's upstream_images)`,
      );
    }
    // The customer's volumes go with the instance: only clouds that carry them (Verda), in the volumes' region.
    const attached =
      options.volumes ??
      (await tx
        .select({ id: volumes.id, regionId: volumes.regionId })
        .from(volumes)
        .where(and(eq(volumes.instanceId, row.id), eq(volumes.status, "attached"))));
    const offers = attached.length
      ? imaged.filter(
          (o) => this.clouds.get(o.provider as UpstreamName)?.cloud.volumes && o.regionId === attached[0].regionId,
        )
      : imaged;
    if (imaged.length && !offers.length) {
      const clouds = [...this.clouds].filter(([, c]) => c.cloud.volumes).map(([name]) => name);
      throw badRequest(
        `volumes go only with instances on ${clouds.join(", ") || "no resold cloud"} in the volume's region; ${[...new Set(imaged.map((o) => o.provider))].join(", ")} here cannot carry volume ${attached[0].id}: create it without volumes`,
      );
    }
    // Never an offer that costs more than the customer pays (a price not yet raised by a sync, a failover to a dearer
    // cloud or region), unless the operator allowed selling that cloud below cost.
    const allowed = await belowCostAllowed(tx);
    const covered = offers.filter((o) => o.upstreamPriceMicros <= row.pricePerHourMicros || allowed.has(o.provider));
    if (covered.length < offers.length) {
      ctx.log.warn(
        { instance: row.id, price: row.pricePerHourMicros.toString(), left_out: offers.length - covered.length },
        "placement: offers dearer than the instance's price left out of its plan",
      );
    }
    // Nothing reports room: a customer who asked to wait still gets the order (every offer in the plan); the
    // provisioning worker's refusals then put it on the waitlist.
    const available = covered.filter((o) => this.isAvailable(ctx, o));
    const candidates: Candidate[] = (available.length || !options.waitlist ? available : covered)
      .sort((a, b) => cheapestFirst(a, b, row.regionId))
      .map((o) => ({
        provider: o.provider as UpstreamName,
        upstreamType: o.upstreamType,
        upstreamRegion: o.upstreamRegion,
        regionId: o.regionId,
        upstreamPriceMicros: o.upstreamPriceMicros.toString(),
        upstreamImage: imageOn.get(o.provider)!,
      }));
    if (!candidates.length) return null;
    await tx
      .insert(upstreamLaunches)
      .values({ instanceId: row.id, candidates, waitlist: options.waitlist ? 1 : 0 })
      .onConflictDoUpdate({
        target: upstreamLaunches.instanceId,
        set: { candidates, nextCandidate: 0, attempts: 0, leaseUntil: null, tried: [] },
      });
    // The plan is recorded; the instance (ordered, or a stopped one whose upstream copy is gone) waits where it starts.
    return { providerRef: null, deferred: { provider: candidates[0].provider, regionId: candidates[0].regionId } };
  }

  /** Launched: only checked here (502 while paused); the cloud is asked after the commit (request). */
  async start(ctx: AppContext, tx: Executor, row: InstanceRow): Promise<Placement | null> {
    if (!row.providerRef) return this.provision(ctx, tx, row);
    this.assertReachable(row.provider);
    return { providerRef: row.providerRef };
  }

  /** Checked here (Lambda's 409, 502 while paused); the cloud is asked after the commit; answers the cloud's note. */
  async stop(_ctx: AppContext, _tx: Executor, row: InstanceRow): Promise<string | undefined> {
    // Not launched yet: the provisioning worker sees the stop and launches nothing.
    if (!row.providerRef) return undefined;
    const cloud = this.cloud(row.provider);
    if (!cloud.canStop) {
      throw conflict(
        `cannot stop instance ${row.id}: ${row.provider} has no stop, only terminate; delete the instance to end it (billing stops when ${row.provider} confirms)`,
        { status: row.status, provider: row.provider },
      );
    }
    this.assertReachable(row.provider);
    // The billing rule decides what a stop costs; a cloud that keeps charging says so rather than its own note.
    return billedWhileStoppedNote(row.provider, row.billedWhileStopped) ?? cloud.stopNote;
  }

  /** Lost or failed upstream: nothing to give back and nothing to ask the cloud. */
  async release(): Promise<void> {}

  /** Not launched: gone at once. Launched: deleted when the status sync no longer sees it (or sees it terminated). */
  async delete(_ctx: AppContext, _tx: Executor, row: InstanceRow): Promise<boolean> {
    if (!row.providerRef) return true;
    this.assertReachable(row.provider);
    return false;
  }

  confirmsLater(row: InstanceRow): boolean {
    return row.providerRef !== null;
  }

  /** The cloud call behind a committed start, stop or delete (outside any transaction). */
  async request(_ctx: AppContext, row: InstanceRow, action: "start" | "stop" | "delete"): Promise<void> {
    const ref = row.providerRef!;
    try {
      await this.now_(row.provider, (c) =>
        action === "start" ? c.start(ref) : action === "stop" ? c.stop(ref) : c.terminate([ref]),
      );
    } catch (error) {
      // Already gone: the delete is done; the status sync confirms it on its next pass.
      if (action === "delete" && error instanceof ApiError && error.details?.kind === "gone") return;
      throw error;
    }
  }

  private assertReachable(provider: string): void {
    const name = provider as UpstreamName;
    if (this.isOpen(name)) throw badGateway(name, "is failing; calls to it are paused for a while");
  }

  /** Reconciliation is batched per cloud (src/domain/providers/reconcile.ts), not asked per instance. */
  async status() {
    return { state: "unchanged" as const };
  }

  /** Runs a call a customer is waiting on: refused at once while the breaker is open; a failure is a 502. */
  private async now_(provider: string, call: (cloud: UpstreamCloud) => Promise<void>): Promise<void> {
    const name = provider as UpstreamName;
    this.assertReachable(name);
    try {
      await call(this.cloud(name));
      this.noteOk(name);
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error;
      if (error.kind === "auth") this.noteError(name, error);
      // The cloud refused this action in this state (Verda: "Can't shutdown a provisioning instance"): say so.
      if (error.kind === "rejected") throw conflict(`${name} refused: ${error.message}`, { provider: name });
      throw badGateway(name, `answered: ${error.message}`, error.kind, error.requestId);
    }
  }

  private async offersFor(db: Executor, instanceTypeId: string, regionId: string | null) {
    const names = [...this.clouds.keys()];
    if (!names.length) return [];
    return db
      .select()
      .from(upstreamOffers)
      .where(
        and(
          eq(upstreamOffers.instanceTypeId, instanceTypeId),
          regionId ? eq(upstreamOffers.regionId, regionId) : undefined,
          inArray(upstreamOffers.provider, names),
        ),
      );
  }

  /**
   * Whether the upstream says it has the type in that location: from its last availability answer, refreshed in the
   * background when older than a few seconds (a slow upstream never holds the API up); before the first answer, the
   * catalog sync's.
   */
  private isAvailable(ctx: AppContext, offer: typeof upstreamOffers.$inferSelect): boolean {
    const name = offer.provider as UpstreamName;
    const cached = this.availability.get(name);
    if (!cached || this.now() - cached.at > AVAILABILITY_TTL_MS) this.refreshAvailability(ctx, name);
    if (this.isOpen(name)) return false;
    return cached ? cached.available.has(`${offer.upstreamType}@${offer.upstreamRegion}`) : offer.available > 0;
  }

  refreshAvailability(ctx: AppContext, name: UpstreamName): Promise<void> | undefined {
    if (!this.clouds.has(name)) return undefined;
    // One call at a time per cloud: a caller that comes while one is under way gets that one.
    const running = this.refreshing.get(name);
    if (running) return running;
    const refresh = this.cloud(name)
      .types()
      .then((types) => {
        const available = new Set(types.filter((t) => t.available).map((t) => `${t.upstreamType}@${t.upstreamRegion}`));
        this.availability.set(name, { at: this.now(), available });
        this.noteOk(name);
      })
      .catch((error) => {
        this.noteError(name, error);
        ctx.log.warn(
          { err: error, provider: name, request_id: (error as UpstreamError).requestId },
          "upstream availability",
        );
      })
      .finally(() => this.refreshing.delete(name));
    this.refreshing.set(name, refresh);
    return refresh;
  }

  /** For tests and the catalog sync: forget cached availability. */
  forgetAvailability(): void {
    this.availability.clear();
  }
}

async function belowCostAllowed(db: Executor): Promise<Set<string>> {
  const rows = await db
    .select({ name: upstreamProviders.name })
    .from(upstreamProviders)
    .where(eq(upstreamProviders.allowBelowCost, true));
  return new Set(rows.map((r) => r.name));
}

/** Cheapest upstream price first; at the same price, the region the instance was ordered in. */
function cheapestFirst(
  a: typeof upstreamOffers.$inferSelect,
  b: typeof upstreamOffers.$inferSelect,
  regionId: string,
): number {
  if (a.upstreamPriceMicros !== b.upstreamPriceMicros) return a.upstreamPriceMicros < b.upstreamPriceMicros ? -1 : 1;
  return (a.regionId === regionId ? 0 : 1) - (b.regionId === regionId ? 0 : 1);
}

export function badGateway(provider: UpstreamName, what: string, kind?: string, requestId?: string | null): ApiError {
  return new ApiError("BAD_GATEWAY", `the upstream provider ${provider} ${what}; try again shortly`, {
    provider,
    ...(kind ? { kind } : {}),
    ...(requestId ? { upstream_request_id: requestId } : {}),
  });
}
