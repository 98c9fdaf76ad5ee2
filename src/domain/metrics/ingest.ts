import { type SQL, sql } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import { copyFromStdin } from "../../db/copy.js";
import { intArray, queryRows } from "../../db/sql.js";
import { ApiError } from "../../lib/errors.js";
import { EARLIEST } from "../../lib/schemas.js";
import {
  type Latest,
  latestBuffer,
  newestPerGpu,
  PACKED,
  packSamples,
  upsertLatestQuery,
  upsertLatestSql,
} from "./latest.js";

export interface Sample {
  gpuId: number;
  ts?: Date;
  utilizationPct?: number | null;
  memoryUsedMb?: number | null;
  memoryTotalMb?: number | null;
  temperatureC?: number | null;
  powerDrawW?: number | null;
}

/** Samples stamped further ahead than this are refused: a node with a wrong clock would poison ranges and roll-ups. */
const MAX_FUTURE_MS = 5 * 60_000;
/** PGlite has no COPY from a client stream; multi-row INSERTs of this many rows stay under the parameter limit. */
const INSERT_CHUNK = 1_000;

const columns = "gpu_id, ts, utilization_pct, memory_used_mb, memory_total_mb, temperature_c, power_draw_w";

/**
 * Stores a batch of samples. Every gpu_id must exist (400 naming the unknown ids); a node credential may write only
 * its own node's GPUs (404 naming the others, as if they did not exist). Raw rows go to the partitioned gpu_metrics
 * in bulk (COPY on PostgreSQL, multi-row INSERT on PGlite). The newest sample per GPU goes to gpu_latest_metrics:
 * in a serving process through the per-process buffer (latest.ts), written about once a second, after the rows
 * committed; elsewhere in the rows' own transaction. Either way a reader never sees a latest row without its history.
 */
export function ingestMetrics(
  ctx: AppContext,
  caller: { nodeId: number | null },
  samples: Sample[],
  /** The same samples as packSamples lays them out, ts NaN where absent (parseMetricsFast gives them). */
  packed?: Float64Array,
): Promise<{ accepted: number; gpuCount: number }> {
  // Everything that needs the sample objects happens here, synchronously; what is awaited holds only the COPY text
  // and packed numbers, so thousands of objects do not stay alive (and get copied by the GC) during the I/O.
  let batch: Batch;
  try {
    batch = prepare(ctx, samples, packed);
  } catch (error) {
    return Promise.reject(error);
  }
  return store(ctx, caller, batch);
}

interface Batch {
  count: number;
  ids: number[];
  /** COPY text (PostgreSQL) or INSERT row values (PGlite). */
  copy: string | null;
  rows: SQL[] | null;
  /** With a flusher running: the samples for the process's latest buffer, merged once the rows are stored. */
  packed: Float64Array | null;
  /** Without one: the newest sample per GPU, upserted in the rows' transaction. */
  inline: Latest[] | null;
  /** The packed samples (gpu id, ts ms, …) and their earliest ts, to check them against their GPUs' registration. */
  stamps: Float64Array;
  earliestMs: number;
}

const EARLIEST_MS = EARLIEST.getTime();

function prepare(ctx: AppContext, samples: Sample[], given?: Float64Array): Batch {
  const now = ctx.clock.now();
  const nowMs = now.getTime();
  const latest = nowMs + MAX_FUTURE_MS;
  const packed = given ?? packSamples(samples, now);
  const ids = new Set<number>();
  let earliestMs = nowMs;
  for (let i = 0, j = 0; i < samples.length; i++, j += PACKED) {
    ids.add(packed[j] | 0);
    const ms = packed[j + 1];
    if (Number.isNaN(ms)) packed[j + 1] = nowMs;
    else if (ms < earliestMs) earliestMs = ms;
    if (ms < EARLIEST_MS) {
      // Year-19 samples once landed outside every partition and broke GPU reads and the maintenance loop for good.
      const ts = new Date(ms).toISOString();
      throw new ApiError("BAD_REQUEST", `metrics.${i}.ts is before ${EARLIEST.toISOString()} (${ts})`);
    } else if (ms > latest) {
      const ts = new Date(ms).toISOString();
      throw new ApiError("BAD_REQUEST", `metrics.${i}.ts is more than 5 minutes in the future (${ts})`);
    }
  }
  const deferred = latestBuffer(ctx).deferred;
  const postgres = ctx.database.kind === "postgres";
  return {
    count: samples.length,
    ids: [...ids],
    copy: postgres ? copyText(samples, now) : null,
    rows: postgres ? null : samples.map((s) => sampleSql(s, now)),
    packed: deferred ? packed : null,
    inline: deferred ? null : newestPerGpu(samples, now),
    stamps: packed,
    earliestMs,
  };
}

async function store(
  ctx: AppContext,
  caller: { nodeId: number | null },
  batch: Batch,
): Promise<{ accepted: number; gpuCount: number }> {
  const registered = await checkGpus(ctx, batch.ids, caller.nodeId);
  checkRegistered(batch, registered);
  // With a flusher running, the batch's only write is its history rows (one COPY or one transaction, atomic either
  // way) and the newest samples join the process's buffer once they are stored; without one, the latest upsert
  // commits in the same transaction as the rows.
  const { rows, inline } = batch;
  if (batch.copy !== null) await copyPostgres(ctx, batch.copy, inline);
  else if (rows) {
    await ctx.db.transaction(async (tx) => {
      for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
        const chunk = rows.slice(i, i + INSERT_CHUNK);
        await tx.execute(sql`insert into gpu_metrics (${sql.raw(columns)}) values ${sql.join(chunk, sql`, `)}`);
      }
      if (inline) await tx.execute(upsertLatestSql(inline));
    });
  }
  if (batch.packed) {
    const buffer = latestBuffer(ctx);
    buffer.mergePacked(batch.packed);
    if (!buffer.deferred) await buffer.flush(); // the flusher stopped (shutdown) while this batch was stored
  }
  return { accepted: batch.count, gpuCount: batch.ids.length };
}

/**
 * How long a GPU known to exist (and its node) is trusted without asking the database again. Unknown ids are never
 * cached, so a GPU registered a moment ago is taken at once; one deleted within this window may still get samples
 * (history rows only: the latest flush skips GPUs that no longer exist, and retention drops the rest).
 */
const GPU_CACHE_MS = 5_000;

/**
 * How far before its GPU's registration a sample may be stamped: the same allowance as for the future, for a node
 * whose clock runs a little behind the server's.
 */
const MAX_SKEW_MS = MAX_FUTURE_MS;

interface GpuCache {
  nodeOf: Map<number, number>;
  /** When each GPU was registered (the earlier of its own row and its node's), in ms. */
  since: Map<number, number>;
  at: Map<number, number>;
}
const gpuCaches = new WeakMap<AppContext, GpuCache>();

/**
 * Every id must exist; a node credential's must be on its node. Asks the database only for ids not seen lately.
 * Returns the GPUs' registration times (ms) for checkRegistered.
 */
async function checkGpus(ctx: AppContext, ids: number[], nodeId: number | null): Promise<Map<number, number>> {
  let cache = gpuCaches.get(ctx);
  if (!cache) {
    cache = { nodeOf: new Map(), since: new Map(), at: new Map() };
    gpuCaches.set(ctx, cache);
  }
  const now = performance.now();
  const ask: number[] = [];
  for (const id of ids) {
    const at = cache.at.get(id);
    if (at === undefined || now - at > GPU_CACHE_MS) ask.push(id);
  }
  if (ask.length) {
    const rows = await queryRows<{ id: number; node_id: number; since: unknown }>(
      ctx.db,
      sql`select g.id, g.node_id, least(g.created_at, n.created_at) as since
            from gpus g join nodes n on n.id = g.node_id
           where g.id = any(${intArray(ask)}::int[])`,
    );
    for (const id of ask) {
      cache.nodeOf.delete(id);
      cache.since.delete(id);
      cache.at.delete(id);
    }
    for (const r of rows) {
      cache.nodeOf.set(Number(r.id), Number(r.node_id));
      cache.since.set(Number(r.id), new Date(r.since as string | Date).getTime());
      cache.at.set(Number(r.id), now);
    }
  }
  const nodeOf = cache.nodeOf;
  const unknown = ids.filter((id) => !nodeOf.has(id));
  const foreign = nodeId === null ? [] : ids.filter((id) => nodeOf.has(id) && nodeOf.get(id) !== nodeId);
  // A node credential is told nothing about other nodes: their GPUs read as unknown, like missing ones.
  if (nodeId !== null && (unknown.length || foreign.length)) {
    const ids = [...unknown, ...foreign].sort((a, b) => a - b);
    throw new ApiError("NOT_FOUND", `gpu_id not found on this node: ${list(ids)}`, { gpu_ids: ids.slice(0, 100) });
  }
  if (unknown.length) {
    throw new ApiError(
      "BAD_REQUEST",
      `metrics.gpu_id: unknown GPU id${unknown.length > 1 ? "s" : ""} ${list(unknown)}`,
      {
        gpu_ids: unknown.slice(0, 100),
      },
    );
  }
  return cache.since;
}

/**
 * No sample may predate its GPU (beyond MAX_SKEW_MS): a node replaying an old disk or a clock reset to 1970-ish
 * would write history for a time the GPU was not there. The common batch (every sample after every GPU's
 * registration) costs one comparison per GPU; only a batch that may hold such a sample is walked sample by sample.
 */
function checkRegistered(batch: Batch, since: Map<number, number>): void {
  let latestSince = Number.NEGATIVE_INFINITY;
  for (const id of batch.ids) latestSince = Math.max(latestSince, since.get(id)! - MAX_SKEW_MS);
  if (batch.earliestMs >= latestSince) return;
  const packed = batch.stamps;
  for (let i = 0, j = 0; i < batch.count; i++, j += PACKED) {
    const id = packed[j] | 0;
    const floor = since.get(id)! - MAX_SKEW_MS;
    if (packed[j + 1] < floor) {
      const ts = new Date(packed[j + 1]).toISOString();
      const registered = new Date(floor + MAX_SKEW_MS).toISOString();
      throw new ApiError("BAD_REQUEST", `metrics.${i}.ts (${ts}) is before GPU ${id} was registered (${registered})`, {
        gpu_id: id,
      });
    }
  }
}

const list = (ids: number[]) =>
  ids.length > 20 ? `${ids.slice(0, 20).join(", ")} and ${ids.length - 20} more` : ids.join(", ");

const num = (v: number | null | undefined) => (v === undefined || v === null ? null : v);

function sampleSql(s: Sample, now: Date) {
  return sql`(${s.gpuId}, ${(s.ts ?? now).toISOString()}::timestamptz, ${num(s.utilizationPct)}::real, ${num(s.memoryUsedMb)}::int, ${num(s.memoryTotalMb)}::int, ${num(s.temperatureC)}::real, ${num(s.powerDrawW)}::real)`;
}

/**
 * COPY's text format: tab-separated, \N for null. Numbers and ISO timestamps need no escaping. A batch carries few
 * distinct timestamps, so each is formatted once.
 */
export function copyText(samples: Sample[], now: Date): string {
  const iso = new Map<number, string>();
  const nowText = now.toISOString();
  let out = "";
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i];
    let ts = nowText;
    if (s.ts) {
      const ms = s.ts.getTime();
      const known = iso.get(ms);
      if (known === undefined) {
        ts = s.ts.toISOString();
        iso.set(ms, ts);
      } else ts = known;
    }
    const u = s.utilizationPct;
    const mu = s.memoryUsedMb;
    const mt = s.memoryTotalMb;
    const t = s.temperatureC;
    const p = s.powerDrawW;
    out += `${s.gpuId}\t${ts}\t${u == null ? "\\N" : u}\t${mu == null ? "\\N" : mu}\t${mt == null ? "\\N" : mt}\t${
      t == null ? "\\N" : t
    }\t${p == null ? "\\N" : p}\n`;
  }
  return out;
}

export const copyStatement = `COPY gpu_metrics (${columns}) FROM STDIN`;

async function copyPostgres(ctx: AppContext, text: string, latest: Latest[] | null): Promise<void> {
  const client = await ctx.database.pool!.connect();
  let failed: unknown;
  try {
    if (latest) await client.query("begin");
    await copyFromStdin(client, copyStatement, text);
    if (latest) {
      await client.query(upsertLatestQuery(latest));
      await client.query("commit");
    }
  } catch (error) {
    failed = error;
    if (latest) await client.query("rollback").catch(() => undefined);
    throw error;
  } finally {
    client.release(failed instanceof Error && !("code" in failed) ? failed : undefined);
  }
}
