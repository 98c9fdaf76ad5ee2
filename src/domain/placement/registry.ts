import { eq } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import type { Executor } from "../../db/client.js";
import { clusters, upstreamOffers } from "../../db/schema/index.js";
import { isUpstreamName } from "../../providers/upstream/types.js";
import { FleetProvider } from "./fleet.js";
import type { SimulatorProvider } from "./simulator.js";
import type { Provider } from "./types.js";
import type { UpstreamProviders } from "./upstream.js";

declare module "../../context.js" {
  interface Services {
    /** Where instances run; filled by src/domain/placement/setup.ts. */
    providers: ProviderRegistry;
  }
}

/**
 * Picks the provider for a region: a region with at least one fleet cluster is served by the fleet (the operator's
 * own GPUs); a region the catalog sync found upstream offers for by the resold clouds (Verda, Lambda, RunPod); any
 * other region by the simulator when it is on (config.simulator), else by nothing.
 */
export class ProviderRegistry {
  readonly fleet = new FleetProvider();
  readonly simulator: SimulatorProvider | null;
  readonly upstream: UpstreamProviders | null;

  constructor(options: { simulator: SimulatorProvider | null; upstream?: UpstreamProviders | null }) {
    this.simulator = options.simulator;
    this.upstream = options.upstream ?? null;
  }

  byName(name: string): Provider {
    if (name === "fleet") return this.fleet;
    if (this.upstream && isUpstreamName(name) && this.upstream.clouds.has(name)) return this.upstream;
    if (name === "simulator" && this.simulator) return this.simulator;
    throw new Error(`provider '${name}' is not configured`);
  }

  async forRegion(db: Executor, regionId: string): Promise<Provider | null> {
    const [cluster] = await db.select({ id: clusters.id }).from(clusters).where(eq(clusters.region, regionId)).limit(1);
    if (cluster) return this.fleet;
    if (this.upstream?.clouds.size) {
      const [offer] = await db
        .select({ provider: upstreamOffers.provider })
        .from(upstreamOffers)
        .where(eq(upstreamOffers.regionId, regionId))
        .limit(1);
      if (offer) return this.upstream;
    }
    return this.simulator;
  }
}

export function providers(ctx: AppContext): ProviderRegistry {
  if (!ctx.services.providers) throw new Error("no provider registry: src/domain/placement/setup.ts has not run");
  return ctx.services.providers;
}
