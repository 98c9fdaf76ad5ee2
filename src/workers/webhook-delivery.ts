import { runDeliveries } from "../domain/webhooks/deliver.js";
import { ensureListening } from "../domain/webhooks/wakeup.js";
import type { Worker } from "./runner.js";

/**
 * Sends queued webhooks (the webhook_deliveries outbox). Woken within milliseconds by the NOTIFY that emitEvent
 * issues at commit (see domain/webhooks/wakeup.ts), and polls every second for retries coming due and in case a
 * notification was missed; an idle poll is one indexed query.
 */
export const webhookDelivery: Worker = {
  name: "webhook-delivery",
  intervalMs: () => 1_000,
  async tick(ctx) {
    // Only where loops run on their own: with workers off (tests, one-off commands) a kick must not start ticks.
    if (ctx.config.workers) await ensureListening(ctx);
    // Lingering half a second keeps the loop hot while events stream in; an idle replica still ends its tick.
    return runDeliveries(ctx, { lingerMs: ctx.config.workers ? 500 : 0 });
  },
};
