import { and, eq, inArray } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import { instances } from "../../db/schema/index.js";
import { confirmInstanceStopped, markInstanceLost } from "../instances/lifecycle.js";
import { markNodeJobsLost } from "../jobs/lifecycle.js";

/**
 * A down node's work is lost: its scheduled and running jobs end (the jobs area decides how) and its live instances
 * are marked lost (the instances area stops billing and gives capacity back); a stop or delete waiting for the
 * agent's confirmation completes. Each area owns its own transition;
 * one instance failing to transition does not stop the others.
 */
export async function markNodeWorkLost(ctx: AppContext, nodeId: number, reason: string): Promise<void> {
  const lostJobs = await markNodeJobsLost(ctx, nodeId, reason);
  const live = await ctx.db
    .select({ id: instances.id })
    .from(instances)
    .where(and(eq(instances.nodeId, nodeId), inArray(instances.status, ["ordered", "provisioning", "running"])));
  // A stop or delete the agent never confirmed: nothing runs on a down node, so it completes now.
  const awaiting = await ctx.db
    .select({ id: instances.id })
    .from(instances)
    .where(and(eq(instances.nodeId, nodeId), inArray(instances.status, ["stopping", "deleting"])));
  for (const instance of awaiting) {
    try {
      await confirmInstanceStopped(ctx, instance.id, { removed: true });
    } catch (error) {
      ctx.log.error({ err: error, instance_id: instance.id, node_id: nodeId }, "could not settle instance stop");
    }
  }
  for (const instance of live) {
    try {
      await markInstanceLost(ctx, instance.id, reason);
    } catch (error) {
      ctx.log.error({ err: error, instance_id: instance.id, node_id: nodeId }, "could not mark instance lost");
    }
  }
  if (lostJobs.length || live.length) {
    ctx.log.warn({ node_id: nodeId, jobs: lostJobs, instances: live.map((i) => i.id) }, "node work lost");
  }
}
