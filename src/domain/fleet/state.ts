import { sql } from "drizzle-orm";

/**
 * A GPU's state is derived, never stored, so it cannot drift from the facts it summarises:
 * - `allocated`: a gpu_allocations row holds it (an instance or a job), whatever else is true;
 * - `unhealthy`: gpus.health is not 'healthy' (degraded or unhealthy), or its node is down;
 * - `draining`: its node is cordoned or draining (no new work is placed there);
 * - `idle`: none of the above: the allocator may place work on it.
 * The SQL expects the GPU as `g`, its node as `n` and its allocation (left join) as `a`.
 */
export const gpuStates = ["idle", "allocated", "unhealthy", "draining"] as const;
export type GpuState = (typeof gpuStates)[number];

export const gpuStateSql = sql<GpuState>`case
  when a.gpu_id is not null then 'allocated'
  when g.health <> 'healthy' or n.status = 'down' then 'unhealthy'
  when n.status in ('cordoned', 'draining') then 'draining'
  else 'idle' end`;

export const nodeStatuses = ["active", "cordoned", "draining", "down"] as const;
export type NodeStatus = (typeof nodeStatuses)[number];
