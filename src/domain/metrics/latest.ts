import { type SQL, sql } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import type { Executor } from "../../db/client.js";
import type { Sample } from "./ingest.js";

/** How often a serving process writes the newest samples it has taken to gpu_latest_metrics. */
export const LATEST_FLUSH_MS = 1000;

export interface Latest {
  gpuId: number;
  ts: Date;
  s: Sample;
}

/** The newest sample of each GPU in the batch, in gpu_id order so concurrent writers lock latest rows in one order. */
export function newestPerGpu(samples: Sample[], now: Date): Latest[] {
  const byGpu = new Map<number, Latest>();
  for (const s of samples) {
    const ts = s.ts ?? now;
    const seen = byGpu.get(s.gpuId);
    if (!seen || seen.ts <= ts) byGpu.set(s.gpuId, { gpuId: s.gpuId, ts, s });
  }
  return [...byGpu.values()].sort((a, b) => a.gpuId - b.gpuId);
}

const columns = "gpu_id, ts, utilization_pct, memory_used_mb, memory_total_mb, temperature_c, power_draw_w";
const num = (v: number | null | undefined) => (v === undefined || v === null ? "NULL" : String(v));

/** The upsert's seven array literals (`{1,2,…}`), one per column, so the statement has seven parameters at any size. */
function latestArrays(latest: Latest[]): string[] {
  const cols: string[][] = [[], [], [], [], [], [], []];
  for (const l of latest) {
    cols[0].push(String(l.gpuId));
    cols[1].push(`"${l.ts.toISOString()}"`);
    cols[2].push(num(l.s.utilizationPct));
    cols[3].push(num(l.s.memoryUsedMb));
    cols[4].push(num(l.s.memoryTotalMb));
    cols[5].push(num(l.s.temperatureC));
    cols[6].push(num(l.s.powerDrawW));
  }
  return cols.map((c) => `{${c.join(",")}}`);
}

/**
 * One statement for any number of GPUs. An older sample never overwrites a newer one already stored, so replicas
 * flushing in any order never move a GPU's latest backwards; a GPU deleted meanwhile gets no row back.
 */
const upsertText = `insert into gpu_latest_metrics (${columns})
  select u.* from unnest($1::int[], $2::timestamptz[], $3::real[], $4::int[], $5::int[], $6::real[], $7::real[])
    as u(gpu_id, ts, utilization_pct, memory_used_mb, memory_total_mb, temperature_c, power_draw_w)
  where exists (select 1 from gpus g where g.id = u.gpu_id)
  on conflict (gpu_id) do update set
    ts = excluded.ts, utilization_pct = excluded.utilization_pct, memory_used_mb = excluded.memory_used_mb,
    memory_total_mb = excluded.memory_total_mb, temperature_c = excluded.temperature_c,
    power_draw_w = excluded.power_draw_w
  where gpu_latest_metrics.ts <= excluded.ts`;

/** The upsert as text and parameters, for a raw pg client (the COPY's own transaction). */
export function upsertLatestQuery(latest: Latest[]): { text: string; values: string[] } {
  return { text: upsertText, values: latestArrays(latest) };
}

/** The upsert as a Drizzle statement, for either database. */
export function upsertLatestSql(latest: Latest[]): SQL {
  const parts = upsertText.split(/\$\d/);
  const values = latestArrays(latest);
  const chunks: SQL[] = [sql.raw(parts[0])];
  for (let i = 0; i < values.length; i++) chunks.push(sql`${values[i]}`, sql.raw(parts[i + 1]));
  return sql.join(chunks);
}

/** Values per sample in packSamples' output: gpu id, ts (ms), then the five metrics (NaN for null). */
export const PACKED = 7;

/**
 * A batch as one Float64Array, for LatestBuffer.mergePacked: a request awaiting its COPY then holds one object
 * instead of thousands (live objects are what the garbage collector copies).
 */
export function packSamples(samples: Sample[], now: Date): Float64Array {
  const nowMs = now.getTime();
  const out = new Float64Array(samples.length * PACKED);
  for (let i = 0, j = 0; i < samples.length; i++, j += PACKED) {
    const s = samples[i];
    out[j] = s.gpuId;
    out[j + 1] = s.ts ? s.ts.getTime() : nowMs;
    out[j + 2] = s.utilizationPct ?? Number.NaN;
    out[j + 3] = s.memoryUsedMb ?? Number.NaN;
    out[j + 4] = s.memoryTotalMb ?? Number.NaN;
    out[j + 5] = s.temperatureC ?? Number.NaN;
    out[j + 6] = s.powerDrawW ?? Number.NaN;
  }
  return out;
}

/**
 * The newest sample per GPU taken by this process and not yet written. Ingest merges each stored batch in (after its
 * history rows committed, so latest never runs ahead of history); flush() writes them all in one upsert. While the
 * flusher runs (every serving process, see startLatestFlusher) gpu_latest_metrics trails ingestion by up to
 * LATEST_FLUSH_MS plus one upsert; without it (tests, scripts) ingest upserts in the batch's own transaction.
 */
export class LatestBuffer {
  // Columns indexed by a slot per GPU, NaN for null: merging a batch allocates nothing and keeps no sample objects
  // alive between flushes (which would make the garbage collector copy and promote them, the dominant cost).
  private slotOf = new Map<number, number>();
  private gpuIds = new Int32Array(1024);
  private ts = new Float64Array(1024);
  private values = Array.from({ length: 5 }, () => new Float64Array(1024));
  private dirty = new Uint8Array(1024);
  private dirtySlots: number[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> = Promise.resolve(0);

  constructor(private db: Executor) {}

  /** True while a flusher owns the writes: ingest then only merges. */
  get deferred(): boolean {
    return this.timer !== undefined;
  }

  /** GPUs with a sample not yet written. */
  get size(): number {
    return this.dirtySlots.length;
  }

  /** Keeps the newest sample per GPU (a later one of equal ts wins); samples without ts count as taken at `now`. */
  mergeSamples(samples: Sample[], now: Date): void {
    this.mergePacked(packSamples(samples, now));
  }

  /** mergeSamples for samples packed by packSamples. */
  mergePacked(packed: Float64Array): void {
    const slotOf = this.slotOf;
    // `| 0`: ids as small integers, not boxed doubles, for the Map (ids are int4, so this is exact).
    for (let i = 0; i < packed.length; i += PACKED) {
      const gpuId = packed[i] | 0;
      if (!slotOf.has(gpuId)) this.newSlot(gpuId);
    }
    // Locals from here on: no slot is added (so no column is replaced) inside the loop.
    const [util, memUsed, memTotal, temp, power] = this.values;
    const ts = this.ts;
    const dirty = this.dirty;
    const dirtySlots = this.dirtySlots;
    for (let i = 0; i < packed.length; i += PACKED) {
      const slot = slotOf.get(packed[i] | 0) as number;
      const ms = packed[i + 1];
      if (ts[slot] > ms) continue;
      ts[slot] = ms;
      util[slot] = packed[i + 2];
      memUsed[slot] = packed[i + 3];
      memTotal[slot] = packed[i + 4];
      temp[slot] = packed[i + 5];
      power[slot] = packed[i + 6];
      if (!dirty[slot]) {
        dirty[slot] = 1;
        dirtySlots.push(slot);
      }
    }
  }

  private newSlot(gpuId: number): number {
    const slot = this.slotOf.size;
    if (slot === this.gpuIds.length) {
      const grow = <T extends Int32Array | Float64Array | Uint8Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(a.length * 2);
        b.set(a);
        return b;
      };
      this.gpuIds = grow(this.gpuIds);
      this.ts = grow(this.ts);
      this.values = this.values.map(grow);
      this.dirty = grow(this.dirty);
    }
    this.slotOf.set(gpuId, slot);
    this.gpuIds[slot] = gpuId;
    this.ts[slot] = Number.NEGATIVE_INFINITY;
    return slot;
  }

  /** Writes what is pending in one statement; one flush at a time. Resolves to the number of GPUs written. */
  flush(): Promise<number> {
    const next = this.running.then(
      () => this.writePending(),
      () => this.writePending(),
    );
    this.running = next;
    return next;
  }

  start(intervalMs: number, onError: (error: unknown) => void): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.flush().catch(onError), intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and writes what is left (shutdown). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private async writePending(): Promise<number> {
    if (!this.dirtySlots.length) return 0;
    const slots = this.dirtySlots;
    this.dirtySlots = [];
    const value = (v: number) => (Number.isNaN(v) ? null : v);
    const [util, memUsed, memTotal, temp, power] = this.values;
    const batch: Latest[] = slots.map((slot) => {
      this.dirty[slot] = 0;
      const s: Sample = {
        gpuId: this.gpuIds[slot],
        ts: new Date(this.ts[slot]),
        utilizationPct: value(util[slot]),
        memoryUsedMb: value(memUsed[slot]),
        memoryTotalMb: value(memTotal[slot]),
        temperatureC: value(temp[slot]),
        powerDrawW: value(power[slot]),
      };
      return { gpuId: s.gpuId, ts: s.ts as Date, s };
    });
    batch.sort((a, b) => a.gpuId - b.gpuId);
    try {
      await this.db.execute(upsertLatestSql(batch));
    } catch (error) {
      // Written again by the next flush, with whatever is newest for those GPUs by then.
      for (const slot of slots) {
        if (!this.dirty[slot]) {
          this.dirty[slot] = 1;
          this.dirtySlots.push(slot);
        }
      }
      throw error;
    }
    return batch.length;
  }
}

const buffers = new WeakMap<AppContext, LatestBuffer>();

export function latestBuffer(ctx: AppContext): LatestBuffer {
  let buffer = buffers.get(ctx);
  if (!buffer) {
    buffer = new LatestBuffer(ctx.db);
    buffers.set(ctx, buffer);
  }
  return buffer;
}

/**
 * Every serving process (not only the one running workers: each replica holds its own buffer) calls this at start;
 * stopLatestFlusher on shutdown writes what is left.
 */
export function startLatestFlusher(ctx: AppContext, intervalMs = LATEST_FLUSH_MS): void {
  latestBuffer(ctx).start(intervalMs, (error) => ctx.log.error({ err: error }, "gpu_latest_metrics flush failed"));
}

export async function stopLatestFlusher(ctx: AppContext): Promise<void> {
  const buffer = buffers.get(ctx);
  if (buffer) await buffer.stop();
}

/** Writes this process's pending latest samples now (tests, benchmarks, shutdown). */
export function flushLatestMetrics(ctx: AppContext): Promise<number> {
  return latestBuffer(ctx).flush();
}
