import type { AppContext } from "./context.js";
import { setup as setupBilling } from "./domain/billing/setup.js";
import { setup as setupFleet } from "./domain/fleet/setup.js";
import { setup as setupInstances } from "./domain/instances/setup.js";

/** Fills ctx.services (providers, Stripe, …) and loads what a fresh install needs (the default catalog). */
export async function setupServices(ctx: AppContext): Promise<void> {
  await setupFleet(ctx);
  await setupInstances(ctx);
  await setupBilling(ctx);
}
