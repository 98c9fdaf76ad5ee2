import { and, eq, inArray, sql } from "drizzle-orm";
import type { Executor } from "../../db/client.js";
import { gpuAllocations } from "../../db/schema/index.js";
import { intArray, queryRows } from "../../db/sql.js";
import { modelPattern } from "../gpu-model.js";

export interface AllocationRequest {
  /** Matches a GPU whose model names it as a word: "H100" matches "NVIDIA H100 80GB HBM3". Null = any model. */
  gpuModel?: string | null;
  count: number;
  /** Cluster region (e.g. "FIN-01") or a cluster id to place within. */
  region?: string;
  clusterId?: number;
  tenantId: number | null;
  instanceId?: string;
  jobId?: number;
  /** Only this node (an instance started again where its container and disk are). */
  nodeId?: number;
  /** Only these nodes (those with the workload's container image). */
  nodeIds?: number[];
  /** Take these GPU indices first when free (the ones the instance's container was made with). */
  preferGpuIndices?: number[];
}

export interface Allocation {
  nodeId: number;
  gpuIds: number[];
  gpuIndices: number[];
}

/**
 * Places `count` GPUs on one node for one workload, in the caller's transaction. Best fit: the node with the fewest
 * free matching GPUs that still has enough, which keeps whole nodes free for large workloads. Only healthy GPUs on
 * active nodes are candidates. The primary key of gpu_allocations makes a double booking impossible; if a racing
 * transaction took one of the chosen GPUs first, the claim is retried on what is left.
 */
export async function allocateGpus(tx: Executor, req: AllocationRequest): Promise<Allocation | null> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const free = await queryRows<{ id: number; node_id: number; gpu_index: number }>(
      tx,
      sql`select g.id, g.node_id, g.gpu_index
          from gpus g
          join nodes n on n.id = g.node_id
          join clusters c on c.id = n.cluster_id
          where g.health = 'healthy' and n.status = 'active'
            and not exists (select 1 from gpu_allocations a where a.gpu_id = g.id)
            ${req.gpuModel ? sql`and upper(g.model) ~ ${modelPattern(req.gpuModel)}` : sql``}
            ${req.region ? sql`and c.region = ${req.region}` : sql``}
            ${req.clusterId ? sql`and c.id = ${req.clusterId}` : sql``}
            ${req.nodeId ? sql`and n.id = ${req.nodeId}` : sql``}
            ${req.nodeIds ? sql`and n.id = any(${intArray(req.nodeIds)}::int[])` : sql``}
          order by g.node_id, ${req.preferGpuIndices?.length ? sql`g.gpu_index = any(${intArray(req.preferGpuIndices)}::int[]) desc,` : sql``} g.gpu_index`,
    );
    const byNode = new Map<number, { id: number; gpu_index: number }[]>();
    for (const gpu of free) {
      const list = byNode.get(gpu.node_id) ?? [];
      list.push(gpu);
      byNode.set(gpu.node_id, list);
    }
    let best: [number, { id: number; gpu_index: number }[]] | undefined;
    for (const entry of byNode) {
      if (entry[1].length >= req.count && (!best || entry[1].length < best[1].length)) best = entry;
    }
    if (!best) return null;
    const chosen = best[1].slice(0, req.count);
    const inserted = await tx
      .insert(gpuAllocations)
      .values(
        chosen.map((g) => ({
          gpuId: g.id,
          nodeId: best![0],
          tenantId: req.tenantId,
          instanceId: req.instanceId ?? null,
          jobId: req.jobId ?? null,
        })),
      )
      .onConflictDoNothing()
      .returning({ gpuId: gpuAllocations.gpuId });
    if (inserted.length === chosen.length) {
      return { nodeId: best[0], gpuIds: chosen.map((g) => g.id), gpuIndices: chosen.map((g) => g.gpu_index) };
    }
    // Lost a race for some GPU: give back what we took and try again with fresh data.
    if (inserted.length) {
      await tx.delete(gpuAllocations).where(
        inArray(
          gpuAllocations.gpuId,
          inserted.map((r) => r.gpuId),
        ),
      );
    }
  }
  return null;
}

/** Gives back every GPU a workload holds. */
export async function releaseGpus(tx: Executor, owner: { instanceId?: string; jobId?: number }): Promise<number> {
  const where = owner.instanceId
    ? eq(gpuAllocations.instanceId, owner.instanceId)
    : eq(gpuAllocations.jobId, owner.jobId!);
  const released = await tx.delete(gpuAllocations).where(and(where)).returning({ gpuId: gpuAllocations.gpuId });
  return released.length;
}
