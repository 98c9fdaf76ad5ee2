import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { AppContext } from "../../context.js";
import { getInstance } from "../../domain/instances/queries.js";
import type { Sample } from "../../domain/metrics/ingest.js";
import { ingestMetrics } from "../../domain/metrics/ingest.js";
import { instanceGpuIds, parseStep, queryGpuMetrics } from "../../domain/metrics/query.js";
import { createRoute, nodeAgent, operator, tenant, tenantScope } from "../../http/access.js";
import { appCtx, type Env, principal, router } from "../../http/env.js";
import { commonErrors, envelope, jsonBody, jsonResponse, ok } from "../../http/envelope.js";
import { validationError } from "../../http/validation.js";
import { ApiError } from "../../lib/errors.js";
import { isoDate } from "../../lib/schemas.js";
import { IntIdParam } from "../fleet/schemas.js";
import { InstanceId } from "../instances/instances.js";
import { MetricsBody, parseMetricsFast, samplesOf } from "./ingest-body.js";

export const metricRoutes = router();
const tags = ["Metrics"];

const Ingested = z.object({ accepted: z.number().int(), gpu_count: z.number().int() }).openapi("MetricsIngested");

const ingestRoute = createRoute({
  method: "post",
  path: "/metrics",
  access: nodeAgent,
  tags,
  summary: "Ingest GPU metric samples in bulk (operator write key, or a node's own key for its own GPUs)",
  description:
    "Samples are stored in the time-partitioned history at once. The newest sample per GPU (what GET /gpus/{id}, " +
    "the dashboard and alerts read) is written by each server process about once a second, so it may trail by ~1 s.",
  request: jsonBody(MetricsBody),
  responses: { 201: jsonResponse(envelope(Ingested), "Stored"), ...commonErrors },
});

// Declared with its body schema for the OpenAPI document, but routed without @hono/zod-openapi's body validator:
// the hot path checks the body with parseMetricsFast and asks Zod only for the message of a body it refuses.
metricRoutes.openAPIRegistry.registerPath(ingestRoute);
metricRoutes.openapi({ ...ingestRoute, request: {}, hide: true }, async (c) => {
  const caller = principal(c);
  // No local holds the samples while ingestion awaits its COPY (see ingestMetrics).
  const body = await readSamples(c);
  const result = await ingestMetrics(appCtx(c), { nodeId: caller.nodeId }, body.samples, body.packed);
  return ok(c, Ingested, { accepted: result.accepted, gpu_count: result.gpuCount }, 201);
});

const jsonType = /^application\/([a-z-.]+\+)?json(;\s*[a-zA-Z0-9-]+=([^;]+))*$/i;

/** The body's samples, with the same 415 / malformed-JSON / field-naming 400 answers as the route validator gives. */
async function readSamples(c: Context<Env>): Promise<{ samples: Sample[]; packed?: Float64Array }> {
  const type = c.req.header("content-type");
  let body: unknown = {};
  if (type ? !jsonType.test(type) : (await c.req.text()).length > 0) {
    throw new HTTPException(415, { message: "Unsupported Media Type" });
  }
  if (type) {
    try {
      body = await c.req.json();
    } catch {
      throw new HTTPException(400, { message: "Malformed JSON in request body" });
    }
  }
  const fast = parseMetricsFast(body);
  if (fast) return fast;
  const checked = MetricsBody.safeParse(body);
  if (!checked.success) throw validationError(checked.error, "body");
  return { samples: samplesOf(checked.data) }; // not reached while the two agree; kept so a disagreement cannot refuse good data
}

const RangeQuery = z.object({
  from: isoDate().optional().openapi({ description: "Start (inclusive); default: to − 1 hour" }),
  to: isoDate().optional().openapi({ description: "End (exclusive); default: now" }),
  step: z
    .string()
    .optional()
    .openapi({ description: "Bucket width: seconds, or 30s / 5m / 1h / 1d; default: 60s", example: "5m" }),
});

const Point = z.object({
  ts: z.string(),
  samples: z.number().int(),
  utilization_pct: z.number().nullable(),
  utilization_max: z.number().nullable(),
  memory_used_mb: z.number().nullable(),
  memory_total_mb: z.number().nullable(),
  temperature_c: z.number().nullable(),
  temperature_max: z.number().nullable(),
  power_draw_w: z.number().nullable(),
});

const Series = z
  .object({
    gpu_id: z.number().int(),
    from: z.string(),
    to: z.string(),
    step_seconds: z.number().int(),
    source: z.enum(["raw", "1m", "1h"]).openapi({ description: "Table that answered: raw samples or a roll-up" }),
    points: z.array(Point),
  })
  .openapi("MetricSeries");

metricRoutes.openapi(
  createRoute({
    method: "get",
    path: "/gpus/{id}/metrics",
    access: operator("read"),
    tags,
    summary: "A GPU's metrics over a range, averaged per step (raw, per-minute or per-hour table by step)",
    request: { params: IntIdParam, query: RangeQuery },
    responses: { 200: jsonResponse(envelope(Series), "Series"), ...commonErrors },
  }),
  async (c) => {
    const ctx = appCtx(c);
    const { from, to, stepSeconds } = rangeOf(ctx, c.req.valid("query"));
    const id = c.req.valid("param").id;
    const series = await queryGpuMetrics(ctx, id, { from, to, stepSeconds });
    return ok(
      c,
      Series,
      {
        gpu_id: id,
        from: from.toISOString(),
        to: to.toISOString(),
        step_seconds: stepSeconds,
        source: series.source,
        points: series.points.map((p) => ({ ...p, ts: p.ts.toISOString() })),
      },
      200,
    );
  },
);

/** The query's range: `step` (default a minute) over [from, to), to = now and from = an hour earlier by default. */
function rangeOf(ctx: AppContext, q: z.infer<typeof RangeQuery>) {
  const stepSeconds = q.step === undefined ? 60 : parseStep(q.step);
  if (stepSeconds === null) throw new ApiError("BAD_REQUEST", "step must be seconds or like 30s, 5m, 1h, 1d (≤ 30d)");
  const to = q.to ? new Date(q.to) : ctx.clock.now();
  const from = q.from ? new Date(q.from) : new Date(to.getTime() - 3600_000);
  return { from, to, stepSeconds };
}

metricRoutes.openapi(
  createRoute({
    method: "get",
    path: "/metrics/fleet",
    access: operator("read"),
    tags,
    summary: "The whole fleet's GPU metrics over a range, averaged over every GPU per step (operator)",
    request: { query: RangeQuery },
    responses: { 200: jsonResponse(envelope(Series.omit({ gpu_id: true })), "Series"), ...commonErrors },
  }),
  async (c) => {
    const ctx = appCtx(c);
    const { from, to, stepSeconds } = rangeOf(ctx, c.req.valid("query"));
    const series = await queryGpuMetrics(ctx, null, { from, to, stepSeconds });
    return ok(
      c,
      Series.omit({ gpu_id: true }),
      {
        from: from.toISOString(),
        to: to.toISOString(),
        step_seconds: stepSeconds,
        source: series.source,
        points: series.points.map((p) => ({ ...p, ts: p.ts.toISOString() })),
      },
      200,
    );
  },
);

const InstanceSeries = Series.omit({ gpu_id: true })
  .extend({
    instance_id: z.string(),
    gpu_ids: z.array(z.number().int()).openapi({ description: "The fleet GPUs averaged; empty: none reported" }),
  })
  .openapi("InstanceMetricSeries");

metricRoutes.openapi(
  createRoute({
    method: "get",
    path: "/instances/{id}/metrics",
    access: tenant("instances", "read"),
    tags,
    summary:
      "An instance's GPU utilization and memory over a range, averaged over its fleet GPUs per step (no points " +
      "for an instance whose GPUs report no metrics: an upstream cloud's, or a stopped one)",
    request: { params: InstanceId, query: RangeQuery },
    responses: { 200: jsonResponse(envelope(InstanceSeries), "Series"), ...commonErrors },
  }),
  async (c) => {
    const ctx = appCtx(c);
    const instance = await getInstance(ctx, tenantScope(c), c.req.valid("param").id); // another tenant's: 404
    const { from, to, stepSeconds } = rangeOf(ctx, c.req.valid("query"));
    const gpuIds = await instanceGpuIds(ctx, instance.id);
    const series = await queryGpuMetrics(ctx, gpuIds, { from, to, stepSeconds });
    return ok(
      c,
      InstanceSeries,
      {
        instance_id: instance.id,
        gpu_ids: gpuIds,
        from: from.toISOString(),
        to: to.toISOString(),
        step_seconds: stepSeconds,
        source: series.source,
        points: series.points.map((p) => ({ ...p, ts: p.ts.toISOString() })),
      },
      200,
    );
  },
);
