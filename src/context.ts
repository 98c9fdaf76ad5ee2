import type { Logger } from "pino";
import type { Config } from "./config.js";
import type { Database, Db } from "./db/client.js";
import type { EventBus } from "./lib/bus.js";
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
  /** One area's changes that other areas react to (an instance's transition closes a waitlist order, a run); see DomainEvents. */
  bus: EventBus<DomainEvents>;
}

/**
 * Cross-domain services. Each area declares its entry (declaration merging) and fills it in its `setup.ts`, which
 * src/services.ts calls at start-up.
 */
export interface Services {
  [name: string]: unknown;
}

/**
 * What the areas emit on `ctx.bus`, name → payload. Each emitting area declares its events here (declaration merging,
 * as for Services) next to the code that emits them; the reacting areas subscribe in their `setup.ts`.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by the areas through declaration merging.
export interface DomainEvents {}
