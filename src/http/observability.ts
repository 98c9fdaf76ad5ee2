import { randomUUID } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import { Counter, Histogram, type Registry } from "prom-client";
import type { Env } from "./env.js";

export interface HttpMetrics {
  requests: Counter<"method" | "route" | "status">;
  duration: Histogram<"method" | "route">;
}

export function createHttpMetrics(registry: Registry): HttpMetrics {
  return {
    requests: new Counter({
      name: "gpuplane_http_requests_total",
      help: "HTTP requests by method, matched route and status",
      labelNames: ["method", "route", "status"],
      registers: [registry],
    }),
    duration: new Histogram({
      name: "gpuplane_http_request_duration_seconds",
      help: "HTTP request duration by method and matched route",
      labelNames: ["method", "route"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
  };
}

const validRequestId = /^[\w.:-]{1,128}$/;

/**
 * Request id (kept from `X-Request-Id` when sent), one structured log line and the metrics for each request.
 * The route label is the pattern that answered (`/api/v1/tenants/:id`), never the raw path, so ids do not explode
 * the metric's cardinality.
 */
export function observe(metrics: HttpMetrics): MiddlewareHandler<Env> {
  return async (c, next) => {
    const incoming = c.req.header("x-request-id");
    const requestId = incoming && validRequestId.test(incoming) ? incoming : randomUUID();
    c.set("requestId", requestId);
    const started = performance.now();
    await next();
    c.header("X-Request-Id", requestId);
    const seconds = (performance.now() - started) / 1000;
    // An aborted request body has its own label: the client left, the server did not fail.
    const status = c.get("aborted") ? "aborted" : c.res.status;
    // After next(), routeIndex points at the handler (or middleware) that answered.
    const answered = routePath(c);
    const route = status === 404 && (answered === "*" || answered === "/*") ? "unmatched" : answered;
    const method = c.req.method;
    metrics.requests.labels(method, route, String(status)).inc();
    metrics.duration.labels(method, route).observe(seconds);
    const log = c.get("ctx").log;
    if (log.isLevelEnabled("info")) {
      log.info(
        {
          req_id: requestId,
          method,
          path: c.req.path,
          status,
          ms: Math.round(seconds * 10_000) / 10,
          key: c.get("principal")?.keyId,
        },
        "request",
      );
    }
  };
}
