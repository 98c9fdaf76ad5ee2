import type { AppContext } from "../../context.js";
import {
  images,
  instanceTypeAliases,
  instanceTypeRegionPrices,
  instanceTypes,
  regions,
} from "../../db/schema/index.js";
import { usdToMicros } from "../../lib/money.js";
import { defaultImages, defaultInstanceTypes, defaultRegionPrices, defaultRegions } from "./defaults.js";

/**
 * Loads the default catalog. Idempotent and additive: rows that exist are left as they are (an operator may have
 * repriced or retired them), so every start-up and every replica may run it.
 */
export async function loadDefaultCatalog(ctx: AppContext): Promise<void> {
  const types = defaultInstanceTypes();
  await ctx.db.transaction(async (tx) => {
    await tx.insert(regions).values(defaultRegions).onConflictDoNothing();
    await tx
      .insert(instanceTypes)
      .values(types.map((t) => t.type))
      .onConflictDoNothing();
    await tx
      .insert(instanceTypeAliases)
      .values(types.flatMap((t) => t.aliases.map((a) => ({ ...a, instanceTypeId: t.type.id }))))
      .onConflictDoNothing();
    const regionPrices = defaultRegionPrices.flatMap((p) =>
      types
        .filter((t) => t.type.gpuModel === p.family)
        .map((t) => ({
          instanceTypeId: t.type.id,
          regionId: p.regionId,
          pricePerHourMicros: usdToMicros(p.pricePerGpuHourUsd) * BigInt(t.type.gpuCount),
        })),
    );
    await tx.insert(instanceTypeRegionPrices).values(regionPrices).onConflictDoNothing();
    await tx.insert(images).values(defaultImages).onConflictDoNothing();
  });
}
