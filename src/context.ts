import type { Logger } from "pino";
import type { Config } from "./config.js";
import type { Database, Db } from "./db/client.js";
import type { Clock } from "./lib/clock.js";

/**
 * Everything a domain verb needs, passed in rather than imported, so a test can build a whole server in-process
 * with its own database, clock and fakes.
 */
export interface AppContext {
  database: Database;
  db: Db;
  config: Config;
  clock: Clock;
  log: Logger;
  /** Asks a background loop to run a tick soon (e.g. the scheduler right after a submit). No-op when workers are off. */
  kick(worker: string): void;
  /** Domain services other domains call through (providers, notifier); filled by the composition root. */
  services: Services;
}

/** Cross-domain services. Each domain adds its entry here and fills it in server.ts. */
export interface Services {
  [name: string]: unknown;
}
