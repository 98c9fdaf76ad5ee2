import { eq } from "drizzle-orm";
import type { AppContext } from "../context.js";
import type { Executor } from "../db/client.js";
import { clusters } from "../db/schema/index.js";
import { FleetProvider } from "./fleet/index.js";
import type { SimulatorProvider } from "./simulator/index.js";
import type { Provider } from "./types.js";

declare module "../context.js" {
  interface Services {
    /** Where instances run; filled by src/domain/instances/setup.ts. */
    providers: ProviderRegistry;
  }
}

/**
 * Picks the provider for a region: a region with at least one fleet cluster is served by the fleet (the operator's
 * own GPUs); any other region by the simulator when it is on (config.simulator), else by nothing.
 */
export class ProviderRegistry {
  readonly fleet = new FleetProvider();
  readonly simulator: SimulatorProvider | null;

  constructor(options: { simulator: SimulatorProvider | null }) {
    this.simulator = options.simulator;
  }

  byName(name: string): Provider {
    if (name === "fleet") return this.fleet;
    if (name === "simulator" && this.simulator) return this.simulator;
    throw new Error(`provider '${name}' is not configured`);
  }

  async forRegion(db: Executor, regionId: string): Promise<Provider | null> {
    const [cluster] = await db.select({ id: clusters.id }).from(clusters).where(eq(clusters.region, regionId)).limit(1);
    if (cluster) return this.fleet;
    return this.simulator;
  }
}

export function providers(ctx: AppContext): ProviderRegistry {
  if (!ctx.services.providers) throw new Error("no provider registry: src/domain/instances/setup.ts has not run");
  return ctx.services.providers;
}
