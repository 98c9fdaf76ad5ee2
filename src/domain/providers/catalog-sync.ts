import { and, asc, eq } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import type { Executor } from "../../db/client.js";
import {
  instanceTypeRegionPrices,
  instanceTypes,
  regions,
  upstreamOffers,
  upstreamProviders,
} from "../../db/schema/index.js";
import { notFound } from "../../lib/errors.js";
import { UpstreamError } from "../../providers/upstream/errors.js";
import type { UpstreamName, UpstreamType } from "../../providers/upstream/types.js";
import { providers } from "../placement/registry.js";
import { badGateway } from "../placement/upstream.js";
import { effectiveMarkup, sellPrice } from "./markup.js";

export interface CatalogSyncResult {
  provider: UpstreamName;
  offers: number;
  typesCreated: string[];
  regionsCreated: string[];
  pricesWritten: number;
  /** Region prices the operator edited since the last sync: left as they are. */
  pricesKept: number;
}

/**
 * Maps each upstream type onto a gpuplane instance type (the same GPU model and count, or a new type named after the
 * upstream's), each upstream location onto a region, and prices each at the upstream's price plus the markup. A
 * region price the operator changed since the last sync is never overwritten.
 */
export async function syncUpstreamCatalog(ctx: AppContext, name: UpstreamName): Promise<CatalogSyncResult> {
  const upstream = providers(ctx).upstream;
  if (!upstream?.clouds.has(name)) throw notFound(`upstream provider '${name}'`);
  let types: UpstreamType[];
  try {
    types = await upstream.cloud(name).types();
    upstream.noteOk(name);
  } catch (error) {
    if (!(error instanceof UpstreamError)) throw error;
    upstream.noteError(name, error);
    throw badGateway(name, `answered: ${error.message}`, error.kind, error.requestId);
  }
  upstream.forgetAvailability();
  const result: CatalogSyncResult = {
    provider: name,
    offers: 0,
    typesCreated: [],
    regionsCreated: [],
    pricesWritten: 0,
    pricesKept: 0,
  };
  await ctx.db.transaction(async (tx) => {
    await tx.insert(upstreamProviders).values({ name }).onConflictDoNothing();
    const [settings] = await tx.select().from(upstreamProviders).where(eq(upstreamProviders.name, name));
    const now = ctx.clock.now();
    const groups = new Map<string, { typeId: string; regionId: string; sell: bigint; previous: bigint | null }>();
    for (const t of types) {
      const typeId = await matchType(tx, name, t, result);
      const regionId = await ensureRegion(tx, name, t.upstreamRegion, result);
      const [existing] = await tx
        .select()
        .from(upstreamOffers)
        .where(
          and(
            eq(upstreamOffers.provider, name),
            eq(upstreamOffers.upstreamType, t.upstreamType),
            eq(upstreamOffers.upstreamRegion, t.upstreamRegion),
          ),
        );
      const sell = sellPrice(
        t.pricePerHourMicros,
        effectiveMarkup(settings, existing ?? { markupBps: null, markupFixedMicros: null }),
      );
      const values = {
        provider: name,
        upstreamType: t.upstreamType,
        upstreamRegion: t.upstreamRegion,
        instanceTypeId: typeId,
        regionId,
        upstreamPriceMicros: t.pricePerHourMicros,
        available: t.available ? 1 : 0,
        syncedAt: now,
      };
      await tx
        .insert(upstreamOffers)
        .values(values)
        .onConflictDoUpdate({
          target: [upstreamOffers.provider, upstreamOffers.upstreamType, upstreamOffers.upstreamRegion],
          set: values,
        });
      result.offers++;
      // Several upstream offers may sell one type in one region: the region shows the cheapest.
      const key = `${typeId}@${regionId}`;
      const group = groups.get(key);
      const previous = existing?.syncedSellPriceMicros ?? null;
      if (!group || sell < group.sell)
        groups.set(key, { typeId, regionId, sell, previous: previous ?? group?.previous ?? null });
    }
    for (const g of groups.values()) await writeRegionPrice(tx, name, g, result);
  });
  return result;
}

async function writeRegionPrice(
  tx: Executor,
  name: UpstreamName,
  g: { typeId: string; regionId: string; sell: bigint; previous: bigint | null },
  result: CatalogSyncResult,
) {
  const [current] = await tx
    .select({ price: instanceTypeRegionPrices.pricePerHourMicros })
    .from(instanceTypeRegionPrices)
    .where(
      and(eq(instanceTypeRegionPrices.instanceTypeId, g.typeId), eq(instanceTypeRegionPrices.regionId, g.regionId)),
    );
  if (current && g.previous !== null && current.price !== g.previous) {
    result.pricesKept++;
    return;
  }
  if (current && g.previous === null && current.price !== g.sell) {
    // A price the operator set before this provider was synced here: theirs.
    result.pricesKept++;
    return;
  }
  await tx
    .insert(instanceTypeRegionPrices)
    .values({ instanceTypeId: g.typeId, regionId: g.regionId, pricePerHourMicros: g.sell })
    .onConflictDoUpdate({
      target: [instanceTypeRegionPrices.instanceTypeId, instanceTypeRegionPrices.regionId],
      set: { pricePerHourMicros: g.sell },
    });
  await tx
    .update(upstreamOffers)
    .set({ syncedSellPriceMicros: g.sell })
    .where(
      and(
        eq(upstreamOffers.provider, name),
        eq(upstreamOffers.instanceTypeId, g.typeId),
        eq(upstreamOffers.regionId, g.regionId),
      ),
    );
  result.pricesWritten++;
}

/** The catalog's type with the same GPU model and count (the operator's own types win), else a new one. */
async function matchType(
  tx: Executor,
  name: UpstreamName,
  t: UpstreamType,
  result: CatalogSyncResult,
): Promise<string> {
  const [match] = await tx
    .select({ id: instanceTypes.id })
    .from(instanceTypes)
    .where(
      and(
        eq(instanceTypes.gpuModel, t.gpuModel),
        eq(instanceTypes.gpuCount, t.gpuCount),
        eq(instanceTypes.active, true),
      ),
    )
    .orderBy(asc(instanceTypes.createdAt), asc(instanceTypes.id))
    .limit(1);
  if (match) return match.id;
  const id = `${name}-${t.upstreamType.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`.slice(0, 64);
  const inserted = await tx
    .insert(instanceTypes)
    .values({
      id,
      name: `${t.gpuCount}x ${t.gpuModel} (${name})`,
      gpuModel: t.gpuModel,
      gpuMemoryGb: t.gpuMemoryGb,
      gpuCount: t.gpuCount,
      vcpus: t.vcpus,
      ramGb: t.ramGb,
      diskGb: t.diskGb,
      pricePerHourMicros: t.pricePerHourMicros,
    })
    .onConflictDoNothing()
    .returning();
  if (inserted.length) result.typesCreated.push(id);
  return id;
}

async function ensureRegion(
  tx: Executor,
  name: UpstreamName,
  code: string,
  result: CatalogSyncResult,
): Promise<string> {
  const inserted = await tx
    .insert(regions)
    .values({ id: code, name: `${code} (${name})` })
    .onConflictDoNothing()
    .returning();
  if (inserted.length) result.regionsCreated.push(code);
  return code;
}
