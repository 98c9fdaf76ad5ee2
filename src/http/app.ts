import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { Scalar } from "@scalar/hono-api-reference";
import { sql } from "drizzle-orm";
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { Registry } from "prom-client";
import type { AppContext } from "../context.js";
import { upstreamHealthDetail } from "../domain/placement/health.js";
import { inServerBundle } from "../lib/bundle.js";
import { ApiError, errorStatus, foreignKeyError } from "../lib/errors.js";
import { safeEqualHex, sha256Hex } from "../lib/secrets.js";
import { mountRoutes } from "../routes/index.js";
import { AccessTable, enforceAccess, isPublicRoute } from "./access.js";
import { serveAgentFiles } from "./agent-files.js";
import { authMiddleware, rejectUnauthenticated } from "./auth.js";
import { type Env, router } from "./env.js";
import { idempotencyMiddleware } from "./idempotency.js";
import { createHttpMetrics, observe } from "./observability.js";
import { createRateLimiters, type RateLimiters, rateLimitMiddleware } from "./ratelimit.js";
import { serveConsole } from "./static.js";
import { RequestAborted, refuseNulCharacters } from "./validation.js";

const DOCS_SCRIPT_PATH = "/docs/scalar.js";
let docsScriptText: Promise<string> | undefined;
/** The API reference's browser bundle (3 MB), read once on first use. */
const docsScript = () =>
  (docsScriptText ??= readFile(
    fileURLToPath(import.meta.resolve("@scalar/api-reference/browser/standalone.js")),
    "utf8",
  ));

export interface AppOptions {
  rateLimiters?: RateLimiters;
  registry?: Registry;
}

export function createApp(ctx: AppContext, options: AppOptions = {}) {
  const registry = options.registry ?? new Registry();
  const limiters = options.rateLimiters ?? createRateLimiters(ctx.config.rateLimits);
  const app = router();

  app.use("*", async (c, next) => {
    c.set("ctx", ctx);
    await next();
  });
  app.use("*", observe(createHttpMetrics(registry)));
  app.use("/api/*", limitBody(ctx.config.maxBodyBytes));
  app.use("/api/*", refuseNulCharacters());
  // Every route declares its access in its createRoute; the table of declarations is read once the routes are mounted.
  let table: AccessTable | undefined;
  const accessTable = () => {
    table ??= AccessTable.fromRegistry(app.openAPIRegistry.definitions as never);
    return table;
  };
  app.use(
    "/api/v1/*",
    authMiddleware((method, path) => isPublicRoute(accessTable, method, path)),
  );
  app.use("/api/v1/*", rateLimitMiddleware(limiters, ctx.config.trustProxy, accessTable));
  app.use("/api/v1/*", rejectUnauthenticated());
  app.use("/api/v1/*", enforceAccess(accessTable));
  app.use("/api/v1/*", idempotencyMiddleware());

  app.onError((error, c) => {
    const requestId = c.get("requestId");
    if (error instanceof ApiError) {
      return c.json(
        { code: error.code, error: error.message, ...error.details, request_id: requestId },
        error.status as 400,
      );
    }
    const incoming = (c.env as { incoming?: { aborted?: boolean; readableAborted?: boolean } } | undefined)?.incoming;
    if (error instanceof RequestAborted || incoming?.aborted || incoming?.readableAborted) {
      c.set("aborted", true);
      ctx.log.info({ req_id: requestId, path: c.req.path }, "request body aborted by the client");
      return c.json({ code: "BAD_REQUEST", error: "the request body was aborted", request_id: requestId }, 400);
    }
    const reference = foreignKeyError(error);
    if (reference) {
      return c.json({ code: reference.code, error: reference.message, request_id: requestId }, reference.status as 400);
    }
    if (error instanceof HTTPException) {
      const status = error.status;
      const code = (Object.entries(errorStatus).find(([, s]) => s === status)?.[0] ?? "BAD_REQUEST") as string;
      const message =
        status === 415
          ? "Content-Type must be application/json"
          : /malformed json/i.test(error.message)
            ? "request body is not valid JSON"
            : error.message || code;
      return c.json({ code, error: message, request_id: requestId }, status);
    }
    ctx.log.error({ err: error, req_id: requestId, path: c.req.path }, "unhandled error");
    return c.json(
      {
        code: "INTERNAL",
        error: "internal server error; safe to retry with an Idempotency-Key",
        request_id: requestId,
      },
      500,
    );
  });
  app.notFound((c) => c.json({ code: "NOT_FOUND", error: `no route for ${c.req.method} ${c.req.path}` }, 404));

  app.get("/healthz", async (c) => {
    try {
      await ctx.database.db.execute(sql`select 1`);
      return c.json({ status: "ok", database: ctx.database.kind, providers: upstreamHealthDetail(ctx) });
    } catch {
      return c.json({ status: "unavailable", database: ctx.database.kind }, 503);
    }
  });
  app.get("/metrics", async (c) => {
    const token = ctx.config.metricsToken;
    // Compared as hashes, in constant time: the time taken says nothing of where a guess differs.
    if (token && !safeEqualHex(sha256Hex(c.req.header("authorization") ?? ""), sha256Hex(`Bearer ${token}`))) {
      c.header("WWW-Authenticate", 'Bearer realm="metrics"');
      throw new ApiError("UNAUTHORIZED", "metrics need Authorization: Bearer <GPUPLANE_METRICS_TOKEN>");
    }
    c.header("content-type", registry.contentType);
    return c.body(await registry.metrics());
  });

  mountRoutes(app);
  serveAgentFiles(app, ctx);

  app.openAPIRegistry.registerComponent("securitySchemes", "ApiKey", {
    type: "apiKey",
    in: "header",
    name: "X-API-Key",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "Bearer", { type: "http", scheme: "bearer" });
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "gpuplane API",
      version: "0.1.0",
      description:
        "Rent GPUs by the second and run the fleet behind them. Authenticate with `X-API-Key: <key>` or " +
        "`Authorization: Bearer <key>`. Responses use the `{code, data}` envelope; errors `{code, error}`.",
    },
    servers: [{ url: ctx.config.publicUrl ?? "/" }],
    security: [{ ApiKey: [] }, { Bearer: [] }],
  });
  // The reference's script comes from the installed @scalar/api-reference, not a CDN: /docs works offline.
  app.get(
    "/docs",
    Scalar({ url: "/openapi.json", pageTitle: "gpuplane API", cdn: DOCS_SCRIPT_PATH, withDefaultFonts: false }),
  );
  app.get(DOCS_SCRIPT_PATH, async (c) => {
    // The device kit's server bundle (scripts/build-device-kit.ts) leaves out this 3 MB file; /openapi.json is there.
    if (inServerBundle) return c.text("the API reference page is not in the device kit: read /openapi.json\n", 404);
    c.header("content-type", "text/javascript; charset=utf-8");
    c.header("cache-control", "public, max-age=86400");
    return c.body(await docsScript());
  });

  serveConsole(app);
  return app;
}

/**
 * 413 for a body over `maxBytes`. A declared Content-Length is checked without touching the stream (the HTTP parser
 * never reads past it), and bodiless methods pass straight through: asking for `raw.body` would make the Node adapter
 * build a full Request on every GET. Only a chunked body is counted as it streams in.
 */
function limitBody(maxBytes: number): MiddlewareHandler<Env> {
  const onError = (): never => {
    throw new ApiError("PAYLOAD_TOO_LARGE", `request body is larger than ${maxBytes} bytes`);
  };
  const streaming = bodyLimit({ maxSize: maxBytes, onError });
  return async (c, next) => {
    const method = c.req.method;
    if (method === "GET" || method === "HEAD" || method === "OPTIONS") return next();
    const length = c.req.header("content-length");
    if (length !== undefined && c.req.header("transfer-encoding") === undefined) {
      if (Number(length) > maxBytes) onError();
      return next();
    }
    return streaming(c, next);
  };
}

export type App = ReturnType<typeof createApp>;
export type { Env };
