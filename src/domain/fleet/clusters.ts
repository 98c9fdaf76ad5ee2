import { count, desc, eq, lt, sql } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import { clusters, nodes } from "../../db/schema/index.js";
import type { PageQuery } from "../../http/pagination.js";
import { paginate } from "../../http/pagination.js";
import { ApiError, conflict, notFound, UniqueViolation } from "../../lib/errors.js";
import { isUniqueViolation } from "./errors.js";

export type ClusterRow = typeof clusters.$inferSelect & { nodeCount: number; gpuCount: number };

const withCounts = {
  id: clusters.id,
  name: clusters.name,
  region: clusters.region,
  createdAt: clusters.createdAt,
  nodeCount: sql<number>`(select count(*)::int from nodes n where n.cluster_id = "clusters"."id")`,
  gpuCount: sql<number>`(select count(*)::int from gpus g join nodes n on n.id = g.node_id where n.cluster_id = "clusters"."id")`,
};

export interface ClusterInput {
  name: string;
  region?: string | null;
}

export async function createCluster(ctx: AppContext, input: ClusterInput): Promise<ClusterRow> {
  try {
    const [row] = await ctx.db
      .insert(clusters)
      .values({ name: input.name, region: input.region ?? null, createdAt: ctx.clock.now() })
      .returning();
    return { ...row, nodeCount: 0, gpuCount: 0 };
  } catch (error) {
    if (isUniqueViolation(error)) throw new UniqueViolation(`name: a cluster named '${input.name}' already exists`);
    throw error;
  }
}

export async function getCluster(ctx: AppContext, id: number): Promise<ClusterRow> {
  const [row] = await ctx.db.select(withCounts).from(clusters).where(eq(clusters.id, id));
  if (!row) throw notFound("cluster");
  return row;
}

export async function listClusters(ctx: AppContext, query: PageQuery) {
  return paginate(
    query,
    (after, take) =>
      ctx.db
        .select(withCounts)
        .from(clusters)
        .where(after !== undefined ? lt(clusters.id, Number(after)) : undefined)
        .orderBy(desc(clusters.id))
        .limit(take),
    async () => (await ctx.db.select({ n: count() }).from(clusters))[0].n,
    "int",
  );
}

export async function updateCluster(ctx: AppContext, id: number, patch: Partial<ClusterInput>): Promise<ClusterRow> {
  if (Object.keys(patch).length === 0) throw new ApiError("BAD_REQUEST", "the request body names no field to change");
  try {
    const updated = await ctx.db.update(clusters).set(patch).where(eq(clusters.id, id)).returning({ id: clusters.id });
    if (!updated.length) throw notFound("cluster");
  } catch (error) {
    if (isUniqueViolation(error)) throw new UniqueViolation(`name: a cluster named '${patch.name}' already exists`);
    throw error;
  }
  return getCluster(ctx, id);
}

/** A cluster with nodes is refused (409): its nodes must be removed first, so no GPU disappears by accident. */
export async function deleteCluster(ctx: AppContext, id: number): Promise<ClusterRow> {
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx.select().from(clusters).where(eq(clusters.id, id)).for("update");
    if (!row) throw notFound("cluster");
    const [{ n }] = await tx.select({ n: count() }).from(nodes).where(eq(nodes.clusterId, id));
    if (Number(n) > 0) {
      throw conflict(`cluster ${id} still has ${n} node${Number(n) === 1 ? "" : "s"}; delete them first`, {
        node_count: Number(n),
      });
    }
    await tx.delete(clusters).where(eq(clusters.id, id));
    return { ...row, nodeCount: 0, gpuCount: 0 };
  });
}
