import { z } from "@hono/zod-openapi";
import type { Sample } from "../../domain/metrics/ingest.js";
import { PACKED } from "../../domain/metrics/latest.js";
import { INT4_MAX, int32, isStorableReal, real as realSchema } from "../../lib/schemas.js";

/** One sample as the API takes it. The OpenAPI declaration, and the judge of every body the fast path refuses. */
export const SampleSchema = z.object({
  gpu_id: int32(),
  utilization_pct: realSchema(0, 100).nullable().optional(),
  memory_used_mb: z.number().int().min(0).max(100_000_000).nullable().optional(),
  memory_total_mb: z.number().int().min(0).max(100_000_000).nullable().optional(),
  temperature_c: realSchema(-100, 250).nullable().optional(),
  power_draw_w: realSchema(0, 100_000).nullable().optional(),
  ts: z.iso.datetime({ offset: true }).optional().openapi({ description: "Sample time; default: when received" }),
});

export const MAX_SAMPLES = 50_000;

export const MetricsBody = z
  .object({ metrics: z.array(SampleSchema).min(1).max(MAX_SAMPLES) })
  .openapi("IngestMetrics", { description: "Up to 50,000 samples per request; unknown sample fields are ignored" });

/** The very pattern Zod checks `ts` with, so both paths accept the same strings. */
const tsPattern: RegExp = (SampleSchema.shape.ts.unwrap() as unknown as { _zod: { def: { pattern: RegExp } } })._zod.def
  .pattern;

const isNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/** undefined for a field that is absent or null; NaN marks a value out of range or of the wrong type. */
function real(v: unknown, min: number, max: number): number | null | undefined {
  if (v === undefined || v === null) return v;
  return isNumber(v) && v >= min && v <= max && isStorableReal(v) ? v : Number.NaN;
}
function int(v: unknown, min: number, max: number): number | null | undefined {
  if (v === undefined || v === null) return v;
  return isNumber(v) && Number.isInteger(v) && v >= min && v <= max ? v : Number.NaN;
}

/**
 * The hot path of POST /metrics: checks a parsed JSON body against exactly the rules of MetricsBody (a property test
 * holds the two to agreement) and returns the samples, or undefined if anything is wrong, in which case the caller
 * asks Zod for the message. About 20× faster than Zod on a 5,000-sample body, which matters at 100,000 samples/s.
 * Also returns the samples packed as numbers (see packSamples; ts NaN where absent), filled in the same pass so that
 * ingestion does not walk thousands of objects again.
 */
export function parseMetricsFast(body: unknown): { samples: Sample[]; packed: Float64Array } | undefined {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return undefined;
  const metrics = (body as { metrics?: unknown }).metrics;
  if (!Array.isArray(metrics) || metrics.length < 1 || metrics.length > MAX_SAMPLES) return undefined;
  const out: Sample[] = new Array(metrics.length);
  const packed = new Float64Array(metrics.length * PACKED);
  const dates = new Map<string, Date>(); // a batch carries few distinct timestamps; samples share their Date
  for (let i = 0; i < metrics.length; i++) {
    const m = metrics[i];
    if (typeof m !== "object" || m === null || Array.isArray(m)) return undefined;
    const gpuId = m.gpu_id;
    if (!isNumber(gpuId) || !Number.isInteger(gpuId) || gpuId < 1 || gpuId > INT4_MAX) return undefined;
    const ts = m.ts;
    if (ts !== undefined && (typeof ts !== "string" || !tsPattern.test(ts))) return undefined;
    const utilizationPct = real(m.utilization_pct, 0, 100);
    const memoryUsedMb = int(m.memory_used_mb, 0, 100_000_000);
    const memoryTotalMb = int(m.memory_total_mb, 0, 100_000_000);
    const temperatureC = real(m.temperature_c, -100, 250);
    const powerDrawW = real(m.power_draw_w, 0, 100_000);
    if (
      Number.isNaN(utilizationPct) ||
      Number.isNaN(memoryUsedMb) ||
      Number.isNaN(memoryTotalMb) ||
      Number.isNaN(temperatureC) ||
      Number.isNaN(powerDrawW)
    ) {
      return undefined;
    }
    let date: Date | undefined;
    if (ts !== undefined) {
      date = dates.get(ts);
      if (!date) {
        date = new Date(ts);
        dates.set(ts, date);
      }
    }
    const j = i * PACKED;
    packed[j] = gpuId;
    packed[j + 1] = date === undefined ? Number.NaN : date.getTime();
    packed[j + 2] = utilizationPct ?? Number.NaN;
    packed[j + 3] = memoryUsedMb ?? Number.NaN;
    packed[j + 4] = memoryTotalMb ?? Number.NaN;
    packed[j + 5] = temperatureC ?? Number.NaN;
    packed[j + 6] = powerDrawW ?? Number.NaN;
    out[i] = {
      gpuId,
      ts: date,
      utilizationPct,
      memoryUsedMb,
      memoryTotalMb,
      temperatureC,
      powerDrawW,
    };
  }
  return { samples: out, packed };
}

/** The samples of a body that passed MetricsBody, in the domain's shape (what parseMetricsFast returns). */
export function samplesOf(body: z.infer<typeof MetricsBody>): Sample[] {
  return body.metrics.map((m) => ({
    gpuId: m.gpu_id,
    ts: m.ts === undefined ? undefined : new Date(m.ts),
    utilizationPct: m.utilization_pct,
    memoryUsedMb: m.memory_used_mb,
    memoryTotalMb: m.memory_total_mb,
    temperatureC: m.temperature_c,
    powerDrawW: m.power_draw_w,
  }));
}
