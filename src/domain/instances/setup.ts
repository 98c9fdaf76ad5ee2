import type { AppContext } from "../../context.js";
import { ProviderRegistry } from "../../providers/registry.js";
import { SimulatorProvider } from "../../providers/simulator/index.js";
import { buildUpstreams } from "../../providers/upstream/setup.js";
import { loadDefaultCatalog } from "../catalog/setup.js";

/** Called once at start-up by the composition root: the providers, and the default catalog on a fresh install. */
export async function setup(ctx: AppContext): Promise<void> {
  ctx.services.providers = new ProviderRegistry({
    simulator: ctx.config.simulator
      ? new SimulatorProvider({
          provisionMs: ctx.config.simulatorProvisionMs,
          failureRate: ctx.config.simulatorFailureRate,
          onCapacityRaised: () => ctx.kick("waitlist"),
        })
      : null,
    upstream: buildUpstreams(ctx),
  });
  await loadDefaultCatalog(ctx);
}
