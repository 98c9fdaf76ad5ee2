import cluster from "node:cluster";
import type { Config } from "./config.js";
import { startServer } from "./server.js";

/**
 * `gpuplane serve` on every core: with GPUPLANE_PROCESSES > 1 a primary process forks that many servers, which share
 * the port (node:cluster hands connections round-robin). Every piece of shared state already lives in the database
 * and Redis, so the processes behave as replicas on one host: background loops run under database locks (one process
 * runs each tick), the verified-key cache is per process (docs/adr/0002: a revocation reaches the others within its
 * TTL), rate limits are shared only through REDIS_URL (without it each process counts alone), and /metrics answers
 * for the process that took the scrape. PGlite is one process's database, so more than one process needs
 * DATABASE_URL.
 *
 * The first server starts alone (it applies migrations and may print a generated operator key), the others once
 * it listens. A server that dies is replaced; SIGTERM or SIGINT to the primary stops them all gracefully.
 */
export async function serveOnEveryCore(config: Config) {
  if (config.processes <= 1 || !cluster.isPrimary) {
    await startServer(config);
    return;
  }
  if (!config.databaseUrl) {
    throw new Error(
      `GPUPLANE_PROCESSES=${config.processes} needs DATABASE_URL: PGlite (GPUPLANE_DATA_DIR) is served by one process`,
    );
  }
  let stopping = false;
  const fork = () => cluster.fork();
  const first = fork();
  await new Promise<void>((resolve, reject) => {
    first.once("listening", () => resolve());
    first.once("exit", (code) => reject(new Error(`the first server process exited (${code}) before listening`)));
  });
  for (let i = 1; i < config.processes; i++) fork();
  cluster.on("exit", (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    process.stderr.write(
      `gpuplane: server process ${worker.process.pid} exited (${signal ?? code}); starting another\n`,
    );
    setTimeout(fork, 1_000).unref();
  });
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    const workers = Object.values(cluster.workers ?? {});
    if (workers.length === 0) process.exit(0);
    for (const worker of workers) worker?.process.kill(signal);
  };
  process.on("SIGINT", () => stop("SIGTERM"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}
