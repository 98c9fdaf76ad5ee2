import { and, asc, desc, eq, isNull } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import {
  instanceTypeRegionPrices,
  instanceTypes,
  upstreamOffers,
  upstreamOrphans,
  upstreamProviders,
} from "../../db/schema/index.js";
import { badRequest } from "../../lib/errors.js";
import { type UpstreamName, upstreamNames } from "../../providers/upstream/types.js";
import { type Actor, audit, changes, snapshot } from "../audit/audit.js";
import { providers } from "../placement/registry.js";
import { effectiveMarkup, sellPrice } from "./markup.js";

export interface ProviderView {
  name: UpstreamName;
  configured: boolean;
  /** Calls are paused after repeated failures (circuit breaker open). */
  paused: boolean;
  ok: boolean | null;
  lastError: string | null;
  lastErrorAt: Date | null;
  lastOkAt: Date | null;
  markupBps: number;
  markupFixedMicros: bigint;
  orphanGraceSeconds: number;
  provisioningTimeoutSeconds: number;
  allowBelowCost: boolean;
}

/** How long an upstream instance may provision before it is terminated and failed, unless the operator says. */
export const DEFAULT_PROVISIONING_TIMEOUT_SECONDS = 1200;

/** Every cloud gpuplane can resell, configured or not, with its health and markup. Never its credential. */
export async function listProviders(ctx: AppContext): Promise<ProviderView[]> {
  const upstream = providers(ctx).upstream;
  const rows = await ctx.db.select().from(upstreamProviders);
  return upstreamNames.map((name) => {
    const row = rows.find((r) => r.name === name);
    const live = upstream?.health.get(name);
    const configured = Boolean(upstream?.clouds.has(name));
    return {
      name,
      configured,
      paused: configured && upstream!.isOpen(name),
      ok: live ? live.ok : row ? row.lastError === null || (row.lastOkAt ?? 0) > (row.lastErrorAt ?? 0) : null,
      lastError: live?.error ?? row?.lastError ?? null,
      lastErrorAt: row?.lastErrorAt ?? null,
      lastOkAt: row?.lastOkAt ?? null,
      markupBps: row?.markupBps ?? 0,
      markupFixedMicros: row?.markupFixedMicros ?? 0n,
      orphanGraceSeconds: row?.orphanGraceSeconds ?? 3600,
      provisioningTimeoutSeconds: row?.provisioningTimeoutSeconds ?? DEFAULT_PROVISIONING_TIMEOUT_SECONDS,
      allowBelowCost: row?.allowBelowCost ?? false,
    };
  });
}

export interface ProviderSettings {
  markupBps?: number;
  markupFixedMicros?: bigint;
  orphanGraceSeconds?: number;
  provisioningTimeoutSeconds?: number;
  allowBelowCost?: boolean;
}

/** The settings an operator changes, as the audit trail records them (never the provider's credential). */
const settingsOf = (row: Partial<typeof upstreamProviders.$inferSelect> | undefined) =>
  snapshot({
    markupBps: row?.markupBps ?? 0,
    markupFixedMicros: row?.markupFixedMicros ?? 0n,
    orphanGraceSeconds: row?.orphanGraceSeconds ?? 3600,
    provisioningTimeoutSeconds: row?.provisioningTimeoutSeconds ?? DEFAULT_PROVISIONING_TIMEOUT_SECONDS,
    allowBelowCost: row?.allowBelowCost ?? false,
  });

export async function updateProvider(ctx: AppContext, actor: Actor, name: UpstreamName, settings: ProviderSettings) {
  await ctx.db.transaction(async (tx) => {
    const [before] = await tx.select().from(upstreamProviders).where(eq(upstreamProviders.name, name)).for("update");
    const [after] = await tx
      .insert(upstreamProviders)
      .values({ name, ...settings })
      .onConflictDoUpdate({ target: upstreamProviders.name, set: settings })
      .returning();
    await audit(tx, actor, {
      action: "provider.update",
      target: `provider:${name}`,
      tenantId: null,
      ...changes(settingsOf(before), settingsOf(after)),
    });
  });
  return (await listProviders(ctx)).find((p) => p.name === name)!;
}

/** A per-type markup (null clears it back to the provider's); takes effect at the next catalog sync. */
export async function updateOfferMarkup(
  ctx: AppContext,
  name: UpstreamName,
  upstreamType: string,
  markup: { markupBps: number | null; markupFixedMicros: bigint | null },
  actor: Actor,
) {
  const where = and(eq(upstreamOffers.provider, name), eq(upstreamOffers.upstreamType, upstreamType));
  return ctx.db.transaction(async (tx) => {
    const before = await tx
      .select({ markupBps: upstreamOffers.markupBps, markupFixedMicros: upstreamOffers.markupFixedMicros })
      .from(upstreamOffers)
      .where(where)
      .for("update");
    const updated = await tx
      .update(upstreamOffers)
      .set(markup)
      .where(where)
      .returning({ region: upstreamOffers.upstreamRegion });
    if (!updated.length)
      throw badRequest(`${name} has no synced type '${upstreamType}'; run POST /api/v1/providers/${name}/sync`);
    await audit(tx, actor, {
      action: "provider.markup",
      target: `provider_type:${name}/${upstreamType}`,
      tenantId: null,
      ...changes(snapshot(before[0]), snapshot(markup)),
    });
    return updated.length;
  });
}

/**
 * Offers with their upstream price, what a customer pays for the type in that region (its region price, else the
 * type's), and the margin per hour between them, exactly: negative where the operator allowed a price below cost.
 * `targetPriceMicros` is the upstream price plus the markup, what a sync writes.
 */
export async function listUpstreamOffers(ctx: AppContext, name?: UpstreamName) {
  const [offers, settings] = await Promise.all([
    ctx.db
      .select({
        offer: upstreamOffers,
        regionPrice: instanceTypeRegionPrices.pricePerHourMicros,
        typePrice: instanceTypes.pricePerHourMicros,
      })
      .from(upstreamOffers)
      .leftJoin(instanceTypes, eq(instanceTypes.id, upstreamOffers.instanceTypeId))
      .leftJoin(
        instanceTypeRegionPrices,
        and(
          eq(instanceTypeRegionPrices.instanceTypeId, upstreamOffers.instanceTypeId),
          eq(instanceTypeRegionPrices.regionId, upstreamOffers.regionId),
        ),
      )
      .where(name ? eq(upstreamOffers.provider, name) : undefined)
      .orderBy(asc(upstreamOffers.provider), asc(upstreamOffers.upstreamType), asc(upstreamOffers.upstreamRegion)),
    ctx.db.select().from(upstreamProviders),
  ]);
  return offers.map(({ offer: o, regionPrice, typePrice }) => {
    const provider = settings.find((s) => s.name === o.provider) ?? { markupBps: 0, markupFixedMicros: 0n };
    const target = sellPrice(o.upstreamPriceMicros, effectiveMarkup(provider, o));
    const sell = regionPrice ?? typePrice ?? target;
    return { ...o, sellPriceMicros: sell, targetPriceMicros: target, marginMicros: sell - o.upstreamPriceMicros };
  });
}

export async function listOrphans(ctx: AppContext, openOnly: boolean) {
  return ctx.db
    .select()
    .from(upstreamOrphans)
    .where(openOnly ? isNull(upstreamOrphans.terminatedAt) : undefined)
    .orderBy(desc(upstreamOrphans.firstSeenAt));
}
