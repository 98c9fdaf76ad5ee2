import type { AppContext } from "../../context.js";
import { chargeDue } from "./meter.js";
import { createStripeClient } from "./stripe.js";

/** Called once at start-up by the composition root: fills ctx.services and subscribes billing to what it charges. */
export async function setup(ctx: AppContext): Promise<void> {
  // A stopped instance whose run the meter has not closed yet starts again: charge that run first.
  ctx.bus.on("instance.run-reopening", async ({ tx, instanceId }) => {
    await chargeDue(tx, ctx.clock.now(), { instanceId });
  });
  if (ctx.config.stripeSecretKey) ctx.services.stripe = createStripeClient(ctx.config.stripeSecretKey);
}
