import type { AppContext } from "./context.js";
import { setup as setupBilling } from "./domain/billing/setup.js";
import { loadDefaultCatalog } from "./domain/catalog/setup.js";
import { setup as setupFleet } from "./domain/fleet/setup.js";
import { setup as setupPlacement } from "./domain/placement/setup.js";
import { setup as setupTerminal } from "./domain/terminal/setup.js";
import { setup as setupWaitlist } from "./domain/waitlist/setup.js";

/**
 * Fills ctx.services (providers, Stripe, …), subscribes each area to the others' events on ctx.bus (billing and the
 * waitlist to instances' transitions), and loads what a fresh install needs (the default catalog).
 */
export async function setupServices(ctx: AppContext): Promise<void> {
  await setupFleet(ctx);
  await setupPlacement(ctx);
  await loadDefaultCatalog(ctx);
  await setupBilling(ctx);
  await setupWaitlist(ctx);
  await setupTerminal(ctx);
}
