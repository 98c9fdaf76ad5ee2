import { serveWaitlist } from "../domain/waitlist/serve.js";
import type { Worker } from "./runner.js";

/**
 * Serves the waitlist when capacity opens: notifies or deploys waiting entries in order. Polls every 5 s (an idle
 * pass is one query); whoever frees capacity (a delete, a stop, a node joining) may ctx.kick("waitlist").
 */
export const waitlist: Worker = {
  name: "waitlist",
  intervalMs: () => 5_000,
  tick: (ctx) => serveWaitlist(ctx),
};
