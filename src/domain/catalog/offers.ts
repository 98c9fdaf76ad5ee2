import type { AppContext } from "../../context.js";
import type { Executor } from "../../db/client.js";
import { providers } from "../placement/registry.js";
import { listRegions } from "./regions.js";
import { type InstanceType, listInstanceTypes, priceIn, resolveInstanceType } from "./types.js";

/**
 * How many more instances of a type fit in a region right now, asked live of the region's provider (free fleet
 * GPUs, or the simulator's remaining capacity). Accepts any id or alias of the type.
 */
export async function availableCapacity(
  ctx: AppContext,
  instanceTypeId: string,
  regionId: string,
  db: Executor = ctx.db,
): Promise<number> {
  const type = await resolveInstanceType(ctx, instanceTypeId, db);
  return capacityOf(ctx, db, type, regionId);
}

export async function capacityOf(ctx: AppContext, db: Executor, type: InstanceType, regionId: string) {
  const provider = await providers(ctx).forRegion(db, regionId);
  return provider ? provider.capacity(ctx, db, type, regionId) : 0;
}

export interface Offer {
  type: InstanceType;
  regions: { regionId: string; available: number; pricePerHourMicros: bigint }[];
}

/** Every active type with its live availability and price per region (seed 001's offers). */
export async function listOffers(
  ctx: AppContext,
  filter: { gpuModel?: string; regionId?: string; availableOnly?: boolean } = {},
): Promise<Offer[]> {
  const [types, regions] = await Promise.all([listInstanceTypes(ctx, { gpuModel: filter.gpuModel }), listRegions(ctx)]);
  const inScope = regions.filter((r) => !filter.regionId || r.id === filter.regionId);
  const serving = await Promise.all(inScope.map((r) => providers(ctx).forRegion(ctx.db, r.id)));
  const offers: Offer[] = [];
  for (const type of types) {
    const perRegion = await Promise.all(
      inScope.map(async (r, i) => ({
        regionId: r.id,
        available: serving[i] ? await serving[i].capacity(ctx, ctx.db, type, r.id) : 0,
        pricePerHourMicros: priceIn(type, r.id),
      })),
    );
    if (filter.availableOnly && !perRegion.some((r) => r.available > 0)) continue;
    offers.push({ type, regions: perRegion });
  }
  return offers;
}
