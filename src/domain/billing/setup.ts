import type { AppContext } from "../../context.js";
import { chargeDue } from "./meter.js";
import { createStripeClient } from "./stripe.js";

/** Called once at start-up by the composition root: fills ctx.services and seeds what a fresh install needs. */
export async function setup(ctx: AppContext): Promise<void> {
  // Instances lifecycle calls this before a stopped instance whose run the meter has not closed yet starts again.
  ctx.services.closeInstanceRun = async (tx, instanceId) => {
    await chargeDue(tx, ctx.clock.now(), { instanceId });
  };
  if (ctx.config.stripeSecretKey) ctx.services.stripe = createStripeClient(ctx.config.stripeSecretKey);
}
