import type { AppContext } from "../context.js";
import { kickScheduler } from "./jobs/jobs.js";

/**
 * GPUs (or an upstream provider's room) just became free, and the change has committed: wake the two loops that hand
 * capacity out, the waitlist (instances) and the job scheduler, instead of leaving it idle until their next interval.
 */
export function capacityFreed(ctx: AppContext): void {
  ctx.kick("waitlist");
  kickScheduler(ctx);
}
