import type { AppContext } from "../../context.js";
import { buildClouds } from "../../providers/upstream/setup.js";
import { ProviderRegistry } from "./registry.js";
import { SimulatorProvider } from "./simulator.js";
import { UpstreamProviders } from "./upstream.js";

/** Called once at start-up by the composition root: where instances run (fleet, resold clouds, simulator). */
export async function setup(ctx: AppContext): Promise<void> {
  const now = () => ctx.clock.now().getTime();
  const clouds = buildClouds(ctx.config.upstreams.credentials, { now, timeoutMs: ctx.config.upstreams.timeoutMs });
  ctx.services.providers = new ProviderRegistry({
    simulator: ctx.config.simulator
      ? new SimulatorProvider({
          provisionMs: ctx.config.simulatorProvisionMs,
          failureRate: ctx.config.simulatorFailureRate,
          onCapacityRaised: () => ctx.kick("waitlist"),
        })
      : null,
    upstream: clouds.size ? new UpstreamProviders(clouds, now) : null,
  });
}
