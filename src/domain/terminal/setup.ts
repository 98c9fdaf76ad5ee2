import type { AppContext } from "../../context.js";
import { loadTerminalKey } from "./keys.js";
import { Terminals } from "./terminals.js";

/**
 * Called once at start-up by the composition root: the server's terminal key (made on first start), and the close of
 * an instance's terminals the moment it leaves `running` on this replica (other replicas' watch passes see it too).
 */
export async function setup(ctx: AppContext): Promise<void> {
  ctx.services.terminal = new Terminals(ctx, await loadTerminalKey(ctx));
  ctx.bus.on("instance.transitioned", async ({ before, after }) => {
    if (before.status === "running" && after.status !== "running" && ctx.services.terminal.count) {
      ctx.services.terminal.closeInstance(after.id, `instance ${after.id} is ${after.status}; the terminal closed`);
    }
  });
}
