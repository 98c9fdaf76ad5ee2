import { serveWaitlist } from "../domain/waitlist/serve.js";
import type { Worker } from "./runner.js";

/**
 * Serves the waitlist when capacity opens: notifies or deploys waiting entries in order. Polls every 5 s (an idle
 * pass is one query), and is kicked (ctx.kick("waitlist")) after every commit that frees capacity: an instance
 * stopped, deleted, lost or failed; a job ending; a node joining, coming back or uncordoned; GPUs registered or
 * healthy again; the simulator given more GPUs.
 */
export const waitlist: Worker = {
  name: "waitlist",
  intervalMs: () => 5_000,
  tick: (ctx) => serveWaitlist(ctx),
};
