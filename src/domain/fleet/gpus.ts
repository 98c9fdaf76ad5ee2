import { eq, type SQL, sql } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import type { Executor } from "../../db/client.js";
import { gpus, nodes } from "../../db/schema/index.js";
import { queryRows } from "../../db/sql.js";
import type { PageQuery } from "../../http/pagination.js";
import { paginate } from "../../http/pagination.js";
import { ApiError, conflict, notFound, UniqueViolation } from "../../lib/errors.js";
import { capacityFreed } from "../capacity.js";
import { isUniqueViolation } from "./errors.js";
import { type GpuState, gpuStateSql } from "./state.js";

/** A GPU as operators see it: its row, where it is, its derived state, who holds it and its newest sample. */
export interface GpuView {
  id: number;
  node_id: number;
  cluster_id: number;
  hostname: string;
  gpu_index: number;
  uuid: string | null;
  model: string;
  vram_mb: number | null;
  health: string;
  health_reason: string | null;
  state: GpuState;
  tenant_id: number | null;
  instance_id: string | null;
  job_id: number | null;
  created_at: Date;
  metrics_ts: Date | null;
  utilization_pct: number | null;
  memory_used_mb: number | null;
  memory_total_mb: number | null;
  temperature_c: number | null;
  power_draw_w: number | null;
}

const selectGpus = (where: SQL, tail: SQL = sql``) => sql`
  select g.id, g.node_id, n.cluster_id, n.hostname, g.gpu_index, g.uuid, g.model, g.vram_mb, g.health, g.health_reason,
         ${gpuStateSql} as state, a.tenant_id, a.instance_id, a.job_id, g.created_at,
         m.ts as metrics_ts, m.utilization_pct, m.memory_used_mb, m.memory_total_mb, m.temperature_c, m.power_draw_w
  from gpus g
  join nodes n on n.id = g.node_id
  left join gpu_allocations a on a.gpu_id = g.id
  left join gpu_latest_metrics m on m.gpu_id = g.id
  where ${where} ${tail}`;

/** Drivers differ on timestamps inside raw SQL (PGlite gives Dates, node-postgres too, but be explicit). */
const normalise = (row: GpuView): GpuView => ({
  ...row,
  created_at: new Date(row.created_at),
  metrics_ts: row.metrics_ts ? new Date(row.metrics_ts) : null,
});

export interface GpuInput {
  gpuIndex?: number;
  model?: string;
  vramMb?: number | null;
  uuid?: string | null;
}

/**
 * Registers GPUs on a node. A missing gpu_index takes the next free index on the node. The same index twice in one
 * request is a 400 naming the entry; an index already registered on the node is a 409, unless `upsert` (the node
 * agent re-registering after a restart), which updates model and VRAM in place.
 */
export async function registerGpus(
  ctx: AppContext,
  nodeId: number,
  input: GpuInput[],
  options: { upsert?: boolean } = {},
): Promise<GpuView[]> {
  const seen = new Map<number, number>();
  input.forEach((g, i) => {
    if (g.gpuIndex === undefined) return;
    const first = seen.get(g.gpuIndex);
    if (first !== undefined) {
      throw new ApiError("BAD_REQUEST", `gpus.${i}.gpu_index: index ${g.gpuIndex} appears twice (also gpus.${first})`);
    }
    seen.set(g.gpuIndex, i);
  });
  try {
    const ids = await ctx.db.transaction(async (tx) => {
      const [node] = await tx.select().from(nodes).where(eq(nodes.id, nodeId)).for("update");
      if (!node) throw new ApiError("BAD_REQUEST", `node_id: node ${nodeId} does not exist`);
      const existing = await tx
        .select({ id: gpus.id, gpuIndex: gpus.gpuIndex })
        .from(gpus)
        .where(eq(gpus.nodeId, nodeId));
      const taken = new Map(existing.map((g) => [g.gpuIndex, g.id]));
      if (!options.upsert) {
        const clash = input.findIndex((g) => g.gpuIndex !== undefined && taken.has(g.gpuIndex));
        if (clash >= 0) {
          throw conflict(
            `gpus.${clash}.gpu_index: GPU index ${input[clash].gpuIndex} is already registered on node ${nodeId} (gpu ${taken.get(input[clash].gpuIndex!)})`,
          );
        }
      }
      const used = new Set([...taken.keys(), ...seen.keys()]);
      let next = 0;
      const now = ctx.clock.now();
      const rows = input.map((g) => {
        let gpuIndex = g.gpuIndex;
        if (gpuIndex === undefined) {
          while (used.has(next)) next++;
          gpuIndex = next;
          used.add(next);
        }
        return {
          nodeId,
          gpuIndex,
          model: g.model ?? "unknown",
          vramMb: g.vramMb ?? null,
          uuid: g.uuid ?? null,
          createdAt: now,
        };
      });
      const insert = tx.insert(gpus).values(rows);
      const inserted = await (options.upsert
        ? insert.onConflictDoUpdate({
            target: [gpus.nodeId, gpus.gpuIndex],
            set: {
              model: sql`excluded.model`,
              vramMb: sql`excluded.vram_mb`,
              uuid: sql`coalesce(excluded.uuid, gpus.uuid)`,
            },
          })
        : insert
      ).returning({ id: gpus.id });
      const count = existing.length + inserted.filter((r) => !existing.some((e) => e.id === r.id)).length;
      if (count > node.totalGpus) await tx.update(nodes).set({ totalGpus: count }).where(eq(nodes.id, nodeId));
      return inserted.map((r) => r.id);
    });
    if (ids.length) capacityFreed(ctx); // new GPUs are capacity
    return ids.length ? await gpusByIds(ctx, ids) : [];
  } catch (error) {
    // Two concurrent registrations of the same index: the unique index refuses the second.
    if (isUniqueViolation(error))
      throw new UniqueViolation("gpu_index: a GPU with this index is already registered on the node");
    throw error;
  }
}

export async function gpusByIds(ctx: AppContext, ids: number[], executor: Executor = ctx.db): Promise<GpuView[]> {
  const rows = await queryRows<GpuView>(
    executor,
    selectGpus(
      sql`g.id in (${sql.join(
        ids.map((id) => sql`${id}`),
        sql`, `,
      )})`,
      sql`order by g.id`,
    ),
  );
  return rows.map(normalise);
}

export async function getGpu(ctx: AppContext, id: number): Promise<GpuView> {
  const [row] = await gpusByIds(ctx, [id]);
  if (!row) throw notFound("GPU");
  return row;
}

export interface GpuFilter {
  nodeId?: number;
  clusterId?: number;
  state?: GpuState;
  model?: string;
}

export async function listGpus(ctx: AppContext, query: PageQuery, filter: GpuFilter = {}) {
  const conditions: SQL[] = [sql`true`];
  if (filter.nodeId !== undefined) conditions.push(sql`g.node_id = ${filter.nodeId}`);
  if (filter.clusterId !== undefined) conditions.push(sql`n.cluster_id = ${filter.clusterId}`);
  if (filter.state !== undefined) conditions.push(sql`${gpuStateSql} = ${filter.state}`);
  if (filter.model !== undefined) conditions.push(sql`g.model ilike ${`%${filter.model}%`}`);
  const where = sql.join(conditions, sql` and `);
  return paginate(
    query,
    async (after, take) =>
      (
        await queryRows<GpuView>(
          ctx.db,
          selectGpus(
            after !== undefined ? sql`${where} and g.id < ${Number(after)}` : where,
            sql`order by g.id desc limit ${take}`,
          ),
        )
      ).map(normalise),
    async () => {
      const [row] = await queryRows<{ n: number }>(
        ctx.db,
        sql`select count(*)::int as n from gpus g join nodes n on n.id = g.node_id
            left join gpu_allocations a on a.gpu_id = g.id where ${where}`,
      );
      return Number(row.n);
    },
    "int",
  );
}
