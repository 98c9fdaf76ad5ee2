import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { packSamples } from "../../src/domain/metrics/latest.js";
import { isStorableReal } from "../../src/lib/schemas.js";
import { MetricsBody, parseMetricsFast, samplesOf } from "../../src/routes/metrics/ingest-body.js";

/** Values around and across each field's bounds, of the right and the wrong type. */
const bounds = [-100, 0, 1, 100, 250, 100_000, 100_000_000, 2_147_483_647];
const nearBound = fc.tuple(fc.constantFrom(...bounds), fc.constantFrom(-1, -0.001, 0, 0.001, 1)).map(([b, d]) => b + d);
const anyValue = fc.oneof(
  { weight: 4, arbitrary: nearBound },
  fc.constant(null),
  fc.constant(undefined),
  fc.integer({ min: -300, max: 300 }),
  fc.double({ min: -300, max: 300, noNaN: true }),
  fc.constantFrom(0, -0, 1, 100, 100.5, 250, 250.01, -100, -100.01, 100_000, 100_001, 100_000_000, 100_000_001),
  fc.constantFrom(2_147_483_647, 2_147_483_648, 1e21, -1),
  fc.constantFrom("1", "", true, false, [], {}, [1]),
);
const anyTs = fc.oneof(
  fc.constant(undefined),
  fc
    .date({ min: new Date("1990-01-01"), max: new Date("2090-01-01"), noInvalidDate: true })
    .map((d) => d.toISOString()),
  fc.constantFrom(
    "2026-03-02T08:00:00Z",
    "2026-03-02T08:00:00+02:00",
    "2026-03-02T08:00:00.123456-05:30",
    "2026-03-02T08:00:00",
    "2026-03-02 08:00:00Z",
    "2026-02-29T00:00:00Z",
    "2024-02-29T00:00:00Z",
    "2026-13-01T00:00:00Z",
    "2026-03-02T24:00:00Z",
    "2026-03-02",
    "",
    "now",
  ),
  fc.string(),
  fc.integer(),
  fc.constant(null),
);
/** Mostly valid samples, so that accepted bodies are common too. */
// A denormal (4e-242) is not storable in a real column, so it is not a valid sample.
const validSample = fc.record(
  {
    gpu_id: fc.integer({ min: 1, max: 2_147_483_647 }),
    utilization_pct: fc.option(fc.double({ min: 0, max: 100, noNaN: true }).filter(isStorableReal)),
    memory_used_mb: fc.option(fc.integer({ min: 0, max: 100_000_000 })),
    memory_total_mb: fc.option(fc.integer({ min: 0, max: 100_000_000 })),
    temperature_c: fc.option(fc.double({ min: -100, max: 250, noNaN: true }).filter(isStorableReal)),
    power_draw_w: fc.option(fc.double({ min: 0, max: 100_000, noNaN: true }).filter(isStorableReal)),
    ts: anyTs,
  },
  { requiredKeys: ["gpu_id"] },
);

const fields = [
  "gpu_id",
  "utilization_pct",
  "memory_used_mb",
  "memory_total_mb",
  "temperature_c",
  "power_draw_w",
  "ts",
] as const;
/** A valid sample with one field replaced by anything (or dropped): each rule is met alone. */
const oneBadField = fc
  .tuple(validSample, fc.constantFrom(...fields), fc.oneof(anyValue, anyTs))
  .map(([sample, field, value]) => ({ ...sample, [field]: value }));
const anySample = fc.oneof(
  { weight: 8, arbitrary: oneBadField },
  {
    weight: 8,
    arbitrary: fc.record(
      {
        gpu_id: fc.oneof(fc.integer({ min: 1, max: 20_000 }), anyValue),
        utilization_pct: anyValue,
        memory_used_mb: anyValue,
        memory_total_mb: anyValue,
        temperature_c: anyValue,
        power_draw_w: anyValue,
        ts: anyTs,
        extra: anyValue,
      },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: fc.oneof(fc.constant(null), fc.integer(), fc.string(), fc.constant([])) },
);
const anyBody = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record(
      { metrics: fc.array(anySample, { maxLength: 6 }), other: anyValue },
      { requiredKeys: ["metrics"] },
    ),
  },
  { weight: 1, arbitrary: fc.oneof(anyValue, fc.record({ metrics: anyValue })) },
);
/** A body as the server gets it: through JSON. */
const viaJson = (body: unknown) => {
  const text = JSON.stringify(body);
  return text === undefined ? undefined : JSON.parse(text);
};

function agree(raw: unknown) {
  const body = viaJson(raw);
  const fast = parseMetricsFast(body);
  const zod = MetricsBody.safeParse(body);
  expect(fast !== undefined, JSON.stringify(body)).toBe(zod.success);
  if (fast && zod.success) {
    const samples = samplesOf(zod.data);
    expect(fast.samples).toEqual(samples);
    const now = new Date("2026-03-02T08:00:00Z");
    const packed = packSamples(samples, now);
    // parseMetricsFast leaves ts NaN where absent; ingestion stamps it.
    for (let j = 1; j < fast.packed.length; j += 7) if (Number.isNaN(fast.packed[j])) fast.packed[j] = now.getTime();
    expect(fast.packed).toEqual(packed);
  }
}

describe("POST /metrics body: the fast check and the Zod schema agree", () => {
  it("on random bodies, valid and not", () => {
    fc.assert(fc.property(anyBody, agree), { numRuns: 3000 });
  });

  it("on random valid bodies (and accepts them)", () => {
    fc.assert(
      fc.property(fc.array(validSample, { minLength: 1, maxLength: 20 }), (metrics) => {
        agree({ metrics });
        if (metrics.every((m) => m.ts === undefined)) expect(parseMetricsFast(viaJson({ metrics }))).toBeDefined();
      }),
      { numRuns: 2000 },
    );
  });

  it("on the edges: empty, too many, a single bad sample among good ones", () => {
    agree({ metrics: [] });
    agree({ metrics: Array.from({ length: 50_000 }, (_, i) => ({ gpu_id: i + 1 })) });
    agree({ metrics: Array.from({ length: 50_001 }, (_, i) => ({ gpu_id: i + 1 })) });
    agree({ metrics: [{ gpu_id: 1 }, { gpu_id: 2, utilization_pct: 101 }, { gpu_id: 3 }] });
    agree({ metrics: [{ gpu_id: 1.5 }] });
    agree({});
    agree(null);
    agree([{ gpu_id: 1 }]);
  });
});
