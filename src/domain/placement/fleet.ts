import { eq, sql } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import type { Executor } from "../../db/client.js";
import { gpuAllocations, images, nodes } from "../../db/schema/index.js";
import { queryRows } from "../../db/sql.js";
import { ImageUnavailable, imageOnNodes, nodesForImage } from "../agent/images.js";
import { defaultOciRef } from "../catalog/images.js";
import type { InstanceType } from "../catalog/types.js";
import { type AllocationRequest, allocateGpus, releaseGpus } from "../fleet/allocate.js";
import { modelPattern } from "../gpu-model.js";
import type { InstanceRow } from "../instances/row.js";
import type { Placement, Provider, ProviderStatus, ProvisionOptions } from "./types.js";

/**
 * Instances on the operator's own nodes (registered through the fleet API). GPUs come from the same pool as jobs,
 * through allocateGpus/releaseGpus, so an instance and a job never share a GPU.
 *
 * An instance stays `provisioning` (unbilled) until the node's agent reports its container up through
 * markInstanceRunning; on a node without an agent nothing reports, so it waits (the customer may stop or delete it).
 */
export class FleetProvider implements Provider {
  readonly name = "fleet" as const;

  async capacity(_ctx: AppContext, db: Executor, type: InstanceType, regionId: string): Promise<number> {
    const free = await queryRows<{ free: number }>(
      db,
      sql`select count(*)::int as free
          from gpus g
          join nodes n on n.id = g.node_id
          join clusters c on c.id = n.cluster_id
          where g.health = 'healthy' and n.status = 'active' and c.region = ${regionId}
            and upper(g.model) ~ ${modelPattern(type.gpuModel)}
            and not exists (select 1 from gpu_allocations a where a.gpu_id = g.id)
          group by g.node_id`,
    );
    return free.reduce((sum, node) => sum + Math.floor(Number(node.free) / type.gpuCount), 0);
  }

  /**
   * A node that has the instance's container image goes first, then one that may pull it (or never said); one that
   * lacks it and cannot pull it is never chosen, and when no node that could take the type has the image nor can pull
   * it, the create is refused (409) before anything is placed or billed.
   */
  async provision(
    _ctx: AppContext,
    tx: Executor,
    instance: InstanceRow,
    options?: ProvisionOptions,
  ): Promise<Placement | null> {
    const image = options?.image ?? (await tx.select().from(images).where(eq(images.id, instance.imageId)))[0];
    const ref = image ? (image.ociRef ?? defaultOciRef(image.id)) : null;
    if (!ref) return this.place(tx, instance, {});
    const states = await imageOnNodes(tx, ref, { regionId: instance.regionId, gpuModel: instance.gpuModel });
    const tiers = nodesForImage(states);
    if (states.length && !tiers.length) {
      throw new ImageUnavailable(
        { id: image?.id, ref },
        `in ${instance.regionId} with ${instance.gpuModel} GPUs`,
        states,
      );
    }
    for (const nodeIds of tiers) {
      const placed = await this.place(tx, instance, { nodeIds });
      if (placed) return placed;
    }
    return null;
  }

  /** Allocates the instance's GPUs, on `where.nodeId` only when given (a restart stays with its container). */
  private async place(
    tx: Executor,
    instance: InstanceRow,
    where: Pick<AllocationRequest, "nodeId" | "nodeIds" | "preferGpuIndices">,
  ): Promise<Placement | null> {
    const allocation = await allocateGpus(tx, {
      ...where,
      gpuModel: instance.gpuModel,
      count: instance.gpuCount,
      region: instance.regionId,
      tenantId: instance.tenantId,
      instanceId: instance.id,
    });
    if (!allocation) return null;
    const [node] = await tx.select().from(nodes).where(eq(nodes.id, allocation.nodeId));
    // Never running here: only the node's agent says so, once the container's sshd answers. A node without an agent
    // leaves the instance provisioning (and unbilled) until one joins and starts it.
    return { providerRef: `node-${node.id}:gpu-${allocation.gpuIndices.join(",")}`, nodeId: node.id };
  }

  /**
   * On a node with an agent the stopped container (its disk, its port) stays on that node: the instance starts there
   * again, on the same GPUs when they are free, or not at all (no capacity). Elsewhere, anywhere.
   */
  async start(ctx: AppContext, tx: Executor, instance: InstanceRow): Promise<Placement | null> {
    if (instance.nodeId === null) return this.provision(ctx, tx, instance);
    const [node] = await tx.select().from(nodes).where(eq(nodes.id, instance.nodeId));
    if (!node || node.lastHeartbeatAt === null) return this.provision(ctx, tx, instance);
    const previous = /:gpu-([\d,]+)$/.exec(instance.providerRef ?? "")?.[1];
    return this.place(tx, instance, {
      nodeId: node.id,
      preferGpuIndices: previous ? previous.split(",").map(Number) : [],
    });
  }

  async stop(_ctx: AppContext, tx: Executor, instance: InstanceRow): Promise<void> {
    await releaseGpus(tx, { instanceId: instance.id });
  }

  async delete(_ctx: AppContext, tx: Executor, instance: InstanceRow): Promise<boolean> {
    await releaseGpus(tx, { instanceId: instance.id });
    return true;
  }

  /** A running container on a node whose agent is alive: the agent stops it and says when (nothing runs elsewhere). */
  async awaitsStop(_ctx: AppContext, tx: Executor, instance: InstanceRow): Promise<boolean> {
    if (instance.runningSince === null || instance.stoppedAt !== null || instance.nodeId === null) return false;
    const [node] = await tx.select().from(nodes).where(eq(nodes.id, instance.nodeId));
    return Boolean(node && node.status !== "down" && node.lastHeartbeatAt !== null);
  }

  async status(ctx: AppContext, instance: InstanceRow): Promise<ProviderStatus> {
    // Deleting waits for the agent to remove the container (it still holds its GPUs) while the node is up; a node
    // marked down settles it (markNodeWorkLost), one removed from the fleet leaves nothing to wait for.
    if (instance.status === "deleting") return (await this.awaitsStop(ctx, ctx.db, instance)) ? unchanged : deleted;
    if (instance.status !== "running" && instance.status !== "provisioning") return { state: "unchanged" };
    if (instance.nodeId === null) return { state: "lost", reason: "the instance has no node" };
    const [node] = await ctx.db.select().from(nodes).where(eq(nodes.id, instance.nodeId));
    if (!node) return { state: "lost", reason: `node ${instance.nodeId} was removed from the fleet` };
    if (node.status === "down") return { state: "lost", reason: `node ${node.hostname} is down` };
    const held = await ctx.db
      .select({ gpuId: gpuAllocations.gpuId })
      .from(gpuAllocations)
      .where(eq(gpuAllocations.instanceId, instance.id));
    if (!held.length) return { state: "lost", reason: `its GPUs on node ${node.hostname} were released` };
    return { state: "unchanged" };
  }
}

const unchanged: ProviderStatus = { state: "unchanged" };
const deleted: ProviderStatus = { state: "deleted" };
