import type { AppContext } from "../../context.js";
import { isUpstreamName } from "../../providers/upstream/types.js";
import { orderLeftOrdered } from "./orders.js";

/** Called once at start-up by the composition root: the waitlist's reactions to instances' transitions. */
export async function setup(ctx: AppContext): Promise<void> {
  // An order that waited for capacity is also a waitlist entry: launched, failed or cancelled with it. Only resold
  // clouds' orders wait so: the fleet's and the simulator's transitions pay no extra query.
  ctx.bus.on("instance.transitioned", async ({ tx, before, after, reason }) => {
    if (before.status === "ordered" && after.status !== "ordered" && isUpstreamName(before.provider)) {
      await orderLeftOrdered(ctx, tx, after, reason);
    }
  });
}
