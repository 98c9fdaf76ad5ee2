import { and, count, desc, eq, lt, type SQL, sql } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import type { Executor } from "../../db/client.js";
import { clusters, gpuAllocations, nodes } from "../../db/schema/index.js";
import type { PageQuery } from "../../http/pagination.js";
import { paginate } from "../../http/pagination.js";
import { ApiError, conflict, notFound, UniqueViolation } from "../../lib/errors.js";
import { type Actor, audit, changes } from "../audit/audit.js";
import { capacityFreed } from "../capacity.js";
import { isUniqueViolation } from "./errors.js";
import type { NodeStatus } from "./state.js";

export type NodeRow = typeof nodes.$inferSelect & { gpuCount: number; allocatedGpus: number };

const withCounts = {
  id: nodes.id,
  clusterId: nodes.clusterId,
  hostname: nodes.hostname,
  ipAddress: nodes.ipAddress,
  totalGpus: nodes.totalGpus,
  cpuCores: nodes.cpuCores,
  ramGb: nodes.ramGb,
  status: nodes.status,
  lastHeartbeatAt: nodes.lastHeartbeatAt,
  agentVersion: nodes.agentVersion,
  agentSha256: nodes.agentSha256,
  agentUpgradeRequestedAt: nodes.agentUpgradeRequestedAt,
  facts: nodes.facts,
  images: nodes.images,
  storage: nodes.storage,
  createdAt: nodes.createdAt,
  gpuCount: sql<number>`(select count(*)::int from gpus g where g.node_id = "nodes"."id")`,
  allocatedGpus: sql<number>`(select count(*)::int from gpu_allocations a where a.node_id = "nodes"."id")`,
};

/** A node's fields for the audit trail. */
export const nodeSnapshot = (n: typeof nodes.$inferSelect) => ({
  cluster_id: n.clusterId,
  hostname: n.hostname,
  ip_address: n.ipAddress,
  total_gpus: n.totalGpus,
  cpu_cores: n.cpuCores,
  ram_gb: n.ramGb,
  status: n.status,
});

/** Records a write to a node in the write's transaction (`node.<verb>`). */
export const auditNode = (
  tx: Executor,
  actor: Actor,
  verb: string,
  id: number,
  before: typeof nodes.$inferSelect | null,
  after: typeof nodes.$inferSelect | null,
) =>
  audit(tx, actor, {
    action: `node.${verb}`,
    target: `node:${id}`,
    tenantId: null,
    ...(before && after
      ? changes(nodeSnapshot(before), nodeSnapshot(after))
      : { before: before && nodeSnapshot(before), after: after && nodeSnapshot(after) }),
  });

export interface NodeInput {
  clusterId: number;
  hostname: string;
  ipAddress?: string | null;
  totalGpus?: number;
  cpuCores?: number | null;
  ramGb?: number | null;
}

async function assertCluster(tx: Executor, clusterId: number): Promise<void> {
  const [c] = await tx.select({ id: clusters.id }).from(clusters).where(eq(clusters.id, clusterId));
  // The body names a cluster that does not exist: a bad reference in the request, so 400 naming the field.
  if (!c) throw new ApiError("BAD_REQUEST", `cluster_id: cluster ${clusterId} does not exist`);
}

const hostnameTaken = (hostname: string) =>
  new UniqueViolation(`hostname: a node named '${hostname}' is already registered`);

export async function createNode(ctx: AppContext, actor: Actor, input: NodeInput): Promise<NodeRow> {
  try {
    return await ctx.db.transaction(async (tx) => {
      await assertCluster(tx, input.clusterId);
      const [row] = await tx
        .insert(nodes)
        .values({
          clusterId: input.clusterId,
          hostname: input.hostname,
          ipAddress: input.ipAddress ?? null,
          totalGpus: input.totalGpus ?? 0,
          cpuCores: input.cpuCores ?? null,
          ramGb: input.ramGb ?? null,
          createdAt: ctx.clock.now(),
        })
        .returning();
      await auditNode(tx, actor, "create", row.id, null, row);
      return { ...row, gpuCount: 0, allocatedGpus: 0 };
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw hostnameTaken(input.hostname);
    throw error;
  }
}

export async function getNode(ctx: AppContext, id: number, executor: Executor = ctx.db): Promise<NodeRow> {
  const [row] = await executor.select(withCounts).from(nodes).where(eq(nodes.id, id));
  if (!row) throw notFound("node");
  return row;
}

export interface NodeFilter {
  clusterId?: number;
  status?: NodeStatus;
}

export async function listNodes(ctx: AppContext, query: PageQuery, filter: NodeFilter = {}) {
  const conditions: SQL[] = [];
  if (filter.clusterId !== undefined) conditions.push(eq(nodes.clusterId, filter.clusterId));
  if (filter.status !== undefined) conditions.push(eq(nodes.status, filter.status));
  return paginate(
    query,
    (after, take) =>
      ctx.db
        .select(withCounts)
        .from(nodes)
        .where(and(...conditions, after !== undefined ? lt(nodes.id, Number(after)) : undefined))
        .orderBy(desc(nodes.id))
        .limit(take),
    async () =>
      (
        await ctx.db
          .select({ n: count() })
          .from(nodes)
          .where(and(...conditions))
      )[0].n,
    "int",
  );
}

export async function updateNode(
  ctx: AppContext,
  actor: Actor,
  id: number,
  patch: Partial<NodeInput>,
): Promise<NodeRow> {
  if (Object.keys(patch).length === 0) throw new ApiError("BAD_REQUEST", "the request body names no field to change");
  try {
    await ctx.db.transaction(async (tx) => {
      if (patch.clusterId !== undefined) await assertCluster(tx, patch.clusterId);
      const [before] = await tx.select().from(nodes).where(eq(nodes.id, id)).for("update");
      if (!before) throw notFound("node");
      const [after] = await tx.update(nodes).set(patch).where(eq(nodes.id, id)).returning();
      await auditNode(tx, actor, "update", id, before, after);
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw hostnameTaken(patch.hostname ?? "");
    throw error;
  }
  return getNode(ctx, id);
}

/** A node whose GPUs are allocated is refused (409): drain it first. Its GPUs and metrics go with it. */
export async function deleteNode(ctx: AppContext, actor: Actor, id: number): Promise<NodeRow> {
  return ctx.db.transaction(async (tx) => {
    const row = await getNode(ctx, id, tx);
    await tx.select({ id: nodes.id }).from(nodes).where(eq(nodes.id, id)).for("update");
    const [{ n }] = await tx.select({ n: count() }).from(gpuAllocations).where(eq(gpuAllocations.nodeId, id));
    if (Number(n) > 0) {
      throw conflict(`node ${id} has ${n} allocated GPU${Number(n) === 1 ? "" : "s"}; drain it first`, {
        allocated_gpus: Number(n),
      });
    }
    await tx.execute(sql`delete from gpu_latest_metrics where gpu_id in (select id from gpus where node_id = ${id})`);
    await tx.delete(nodes).where(eq(nodes.id, id));
    await auditNode(tx, actor, "delete", id, row, null);
    return row;
  });
}

/**
 * Cordon: no new work is placed on the node (the allocator takes only active nodes); running work stays.
 * Drain: the same, and the node is marked for its work to be moved off (the scheduler and instance owners act on
 * `draining`). Uncordon returns the node to service. A node that is down stays down until its agent reports in.
 */
export async function setNodeSchedulable(
  ctx: AppContext,
  actor: Actor,
  id: number,
  action: "cordon" | "drain" | "uncordon",
): Promise<NodeRow> {
  const row = await getNode(ctx, id);
  if (row.status === "down" && action === "uncordon") {
    throw conflict("node is down; it returns to service when its agent sends a heartbeat");
  }
  const status: NodeStatus = action === "cordon" ? "cordoned" : action === "drain" ? "draining" : "active";
  if (row.status === "down" && action !== "uncordon") return row;
  await ctx.db.transaction(async (tx) => {
    const [after] = await tx.update(nodes).set({ status }).where(eq(nodes.id, id)).returning();
    await auditNode(tx, actor, action, id, row, after);
  });
  if (status === "active") capacityFreed(ctx); // back in service: its free GPUs are capacity again
  return { ...row, status };
}
