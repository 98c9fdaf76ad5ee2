import { and, asc, eq, isNull } from "drizzle-orm";
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
  /** Region prices the operator edited since the last sync, at or above cost plus markup: left as they are. */
  pricesKept: number;
  /**
   * Region prices below the upstream's price plus markup (the default catalog's, or an operator's edit) raised to it;
   * only a provider with `allow_below_cost` keeps them (then counted as kept, and shown as a loss in the margins).
   */
  pricesRaised: number;
}

/**
 * Maps each upstream type onto a gpuplane instance type (the same GPU model, memory, form factor and count, or a new
 * type named after the upstream's), each upstream location onto a region, and prices each at the upstream's price plus
 * the markup. A region price the operator changed since the last sync is kept while it is at or above that; below it
 * (a default-catalog price the cloud now exceeds, an operator's edit), it is raised, unless the operator allowed
 * selling below cost for the provider (`allow_below_cost`).
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
    pricesRaised: 0,
  };
  await ctx.db.transaction(async (tx) => {
    await tx.insert(upstreamProviders).values({ name }).onConflictDoNothing();
    const [settings] = await tx.select().from(upstreamProviders).where(eq(upstreamProviders.name, name));
    const now = ctx.clock.now();
    const groups = new Map<string, Group>();
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
      // Several upstream offers may sell one type in one region: the region's price covers the dearest one's price
      // plus markup, so a failover to it loses nothing either.
      const key = `${typeId}@${regionId}`;
      const group = groups.get(key);
      const previous = existing?.syncedSellPriceMicros ?? null;
      const floor = group && group.floor > sell ? group.floor : sell;
      if (!group || sell < group.sell)
        groups.set(key, { typeId, regionId, sell, floor, previous: previous ?? group?.previous ?? null });
      else group.floor = floor;
    }
    for (const g of groups.values()) await writeRegionPrice(tx, name, g, settings.allowBelowCost, result);
  });
  return result;
}

interface Group {
  typeId: string;
  regionId: string;
  /** The cheapest offer's price plus markup. */
  sell: bigint;
  /** The dearest offer's price plus markup: the price written, and the least one kept without the operator's flag. */
  floor: bigint;
  previous: bigint | null;
}

async function writeRegionPrice(
  tx: Executor,
  name: UpstreamName,
  g: Group,
  allowBelowCost: boolean,
  result: CatalogSyncResult,
) {
  const [current] = await tx
    .select({ price: instanceTypeRegionPrices.pricePerHourMicros })
    .from(instanceTypeRegionPrices)
    .where(
      and(eq(instanceTypeRegionPrices.instanceTypeId, g.typeId), eq(instanceTypeRegionPrices.regionId, g.regionId)),
    );
  // A price the operator set (edited since the last sync, or set before this provider was synced here) is theirs,
  // as long as it covers the cloud's price plus markup, or they said it need not.
  const operators = current && (g.previous !== null ? current.price !== g.previous : current.price !== g.sell);
  if (operators && (current.price >= g.floor || allowBelowCost)) {
    result.pricesKept++;
    return;
  }
  if (operators) result.pricesRaised++;
  g.sell = g.floor;
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

/**
 * The catalog's type with the same GPU model, memory per GPU, form factor and count (the operator's own types win),
 * else a new one: an H100 PCIe is not sold as an H100 SXM, an A100 40 GB not as an 80 GB, an RTX 6000 (24 GB) not as
 * an RTX 6000 Ada (48 GB). An upstream type whose form factor the cloud does not say matches only a type that says
 * none either, so a customer never gets a lesser part than the type they bought, and failover (among the offers of one
 * type) stays among equal parts.
 */
async function matchType(
  tx: Executor,
  name: UpstreamName,
  t: UpstreamType,
  result: CatalogSyncResult,
): Promise<string> {
  const formFactor = formFactorOf(t);
  const [match] = await tx
    .select({ id: instanceTypes.id })
    .from(instanceTypes)
    .where(
      and(
        eq(instanceTypes.gpuModel, t.gpuModel),
        eq(instanceTypes.gpuMemoryGb, t.gpuMemoryGb),
        formFactor ? eq(instanceTypes.gpuFormFactor, formFactor) : isNull(instanceTypes.gpuFormFactor),
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
      name: `${t.gpuCount}× ${t.gpuModel}${formFactor ? ` ${formFactor}` : ""} ${t.gpuMemoryGb} GB (${name})`,
      gpuModel: t.gpuModel,
      gpuMemoryGb: t.gpuMemoryGb,
      gpuFormFactor: formFactor,
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

/** Workstation and inference cards are made only as PCIe cards: a cloud that does not say so still means PCIe. */
const PCIE_ONLY = new Set(["RTX 6000", "A6000", "L40S", "A10"]);

function formFactorOf(t: UpstreamType) {
  return t.formFactor ?? (PCIE_ONLY.has(t.gpuModel) ? "PCIe" : null);
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
