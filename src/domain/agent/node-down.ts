import { and, eq, inArray, isNotNull, lt } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import { nodes } from "../../db/schema/index.js";
import { emitEvent } from "../events/emit.js";
import { markNodeWorkLost } from "./lost-work.js";

/**
 * Marks down every node whose agent has been silent for longer than config.nodeGraceMs: status 'down' (so
 * allocateGpus, which takes only active nodes, places nothing there), "node.down", and its running jobs and instances
 * lost. Nodes that never had an agent (registered by hand, no heartbeat yet) are left alone. A later heartbeat brings
 * the node back (recordHeartbeat). Each node is claimed with SKIP LOCKED, so replicas never mark one twice.
 */
export async function markSilentNodesDown(ctx: AppContext): Promise<number[]> {
  const now = ctx.clock.now();
  const cutoff = new Date(now.getTime() - ctx.config.nodeGraceMs);
  const down = await ctx.db.transaction(async (tx) => {
    const silent = await tx
      .select({ id: nodes.id, hostname: nodes.hostname, lastHeartbeatAt: nodes.lastHeartbeatAt })
      .from(nodes)
      .where(
        and(
          inArray(nodes.status, ["active", "cordoned", "draining"]),
          isNotNull(nodes.lastHeartbeatAt),
          lt(nodes.lastHeartbeatAt, cutoff),
        ),
      )
      .for("update", { skipLocked: true });
    for (const node of silent) {
      await tx.update(nodes).set({ status: "down" }).where(eq(nodes.id, node.id));
      await emitEvent(
        tx,
        null,
        "node.down",
        {
          node_id: node.id,
          hostname: node.hostname,
          last_heartbeat_at: node.lastHeartbeatAt?.toISOString() ?? null,
          grace_seconds: ctx.config.nodeGraceMs / 1000,
        },
        now,
      );
    }
    return silent;
  });
  for (const node of down) {
    ctx.log.warn({ node_id: node.id, hostname: node.hostname }, "node down: heartbeats stopped");
    const since = node.lastHeartbeatAt?.toISOString() ?? "never";
    await markNodeWorkLost(ctx, node.id, `node ${node.hostname} stopped sending heartbeats (last ${since})`);
  }
  if (down.length) ctx.kick("alerts");
  return down.map((n) => n.id);
}
