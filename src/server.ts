import { serve } from "@hono/node-server";
import { Redis } from "ioredis";
import pino, { type Logger } from "pino";
import { collectDefaultMetrics, Registry } from "prom-client";
import { WebSocketServer } from "ws";
import type { Config } from "./config.js";
import type { AppContext, Services } from "./context.js";
import { type Database, openDatabase } from "./db/client.js";
import { agentArtifact } from "./domain/agent/artifact.js";
import { bootstrapOperatorKey } from "./domain/identity/keys.js";
import { attachLoopMetrics } from "./domain/loops/isolate.js";
import { startLatestFlusher, stopLatestFlusher } from "./domain/metrics/latest.js";
import { createApp } from "./http/app.js";
import { createRateLimiters } from "./http/ratelimit.js";
import { EventBus } from "./lib/bus.js";
import { type Clock, systemClock } from "./lib/clock.js";
import { setupServices } from "./services.js";
import { allWorkers } from "./workers/index.js";
import { WorkerRunner } from "./workers/runner.js";

export interface BuildOptions {
  database?: Database;
  clock?: Clock;
  log?: Logger;
  /** Start the background loops (default: config.workers). Tests run ticks by hand instead. */
  workers?: boolean;
}

/** The composition root: database, context, services, app and workers, with nothing global. */
export async function buildServer(config: Config, options: BuildOptions = {}) {
  // Buffered, asynchronous writes: one write per ~4 KiB of log lines instead of a synchronous write per request line
  // (the per-request info log sits on every request's path). Flushed on shutdown.
  const log =
    options.log ??
    pino(
      { level: config.logLevel, base: { service: "gpuplane" } },
      pino.destination({ dest: 1, sync: false, minLength: 4096 }),
    );
  const database =
    options.database ?? (await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir }));
  let runner: WorkerRunner | undefined;
  const ctx: AppContext = {
    database,
    db: database.db,
    config,
    clock: options.clock ?? systemClock,
    log,
    kick: (name) => runner?.kick(name),
    services: {} as Services,
    bus: new EventBus(),
  };
  runner = new WorkerRunner(ctx, allWorkers);
  await setupServices(ctx);
  const generatedKey = await bootstrapOperatorKey(ctx);

  const registry = new Registry();
  attachLoopMetrics(ctx, registry);
  const redis = config.redisUrl
    ? new Redis(config.redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false })
    : undefined;
  redis?.on("error", (error) => log.warn({ err: error }, "redis unavailable; rate limits fall back to memory"));
  const app = createApp(ctx, {
    registry,
    rateLimiters: createRateLimiters(config.rateLimits, redis, config.redisPrefix),
  });
  const workersOn = options.workers ?? config.workers;

  return {
    app,
    ctx,
    registry,
    runner,
    generatedKey,
    startWorkers() {
      // Every serving process holds its own buffer of newest metric samples, so its flusher runs with or without
      // the workers (tests never call this: their ingest writes latest samples inline).
      startLatestFlusher(ctx);
      if (workersOn) runner!.start();
    },
    async close() {
      ctx.services.terminal.closeAll();
      await runner!.stop();
      await stopLatestFlusher(ctx).catch((error) => log.error({ err: error }, "final gpu_latest_metrics flush failed"));
      redis?.disconnect();
      if (!options.database) await database.close();
      if (!options.log) await new Promise<void>((resolve) => log.flush(() => resolve()));
    },
    collectDefaultMetrics: () => collectDefaultMetrics({ register: registry }),
  };
}

/**
 * The WebSocket side of the HTTP server (the web terminal, GET /api/v1/instances/{id}/terminal): pass it as `serve`'s
 * `websocket` option. Upgrades go through the app like any request, so a refused ticket is a plain 401/404.
 */
export function terminalSockets() {
  // Browser frames are keystrokes and resizes: 64 KiB is far above a paste's worth.
  return { server: new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 }) };
}

export async function startServer(config: Config) {
  const server = await buildServer(config);
  const { log } = server.ctx;
  server.collectDefaultMetrics();
  if (server.generatedKey) {
    // Printed once, on the console only: it is never stored or shown again.
    process.stdout.write(`\n  gpuplane operator API key (shown once, store it now):\n\n    ${server.generatedKey}\n\n`);
  }
  const http = serve(
    { fetch: server.app.fetch, port: config.port, hostname: config.host, websocket: terminalSockets() },
    (info) => {
      log.info(
        {
          port: info.port,
          database: server.ctx.database.kind,
          dataDir: config.databaseUrl ? undefined : config.dataDir,
        },
        `gpuplane listening on http://localhost:${info.port} (docs at /docs)`,
      );
      log.flush();
    },
  );
  http.on("error", (error: NodeJS.ErrnoException) => {
    const reason =
      error.code === "EADDRINUSE"
        ? `port ${config.port} is already in use; stop the other server or set PORT`
        : `cannot listen on ${config.host}:${config.port}: ${error.message}`;
    process.stderr.write(`gpuplane: ${reason}\n`);
    void server.close().finally(() => process.exit(1));
  });
  server.startWorkers();
  // The agent build hosts download (GET /agent/gpuplane-agent.mjs): made now, so the first install does not wait.
  agentArtifact(config)
    .get()
    .then(
      (agent) =>
        log.info({ version: agent.version, sha256: agent.sha256, bytes: agent.code.length }, "agent build ready"),
      (error) => log.error({ err: error }, "agent build failed: GET /agent/gpuplane-agent.mjs answers 503"),
    );
  // Buffered log lines reach stdout within a second even when traffic is low.
  setInterval(() => log.flush(), 1000).unref();
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    log.info({ signal }, "shutting down");
    http.close();
    await server.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  return { server, http };
}
