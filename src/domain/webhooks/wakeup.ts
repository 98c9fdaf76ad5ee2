import pg from "pg";
import type { AppContext } from "../../context.js";
import type { Database } from "../../db/client.js";
import { deliveryChannel } from "../events/emit.js";

/**
 * How a queued delivery reaches the loop within milliseconds instead of the next poll.
 *
 * emitEvent only has the caller's transaction, and a kick before that transaction commits would find nothing. So
 * emitEvent issues NOTIFY in the same transaction: PostgreSQL sends it at commit, to every replica. Each process
 * listens (once per database, while background loops run) and, on a notification, kicks its `webhook-delivery` loop
 * and wakes a tick that is already running (one waiting on a slow receiver can claim new rows at once).
 * A lost notification (a reconnect) costs at most the loop's one-second poll.
 */
export class Wakeup {
  private waiters = new Set<() => void>();

  notify(): void {
    for (const wake of this.waiters) wake();
    this.waiters.clear();
  }

  /** Resolves at the next notification or after `ms`, whichever is first. */
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.waiters.add(done);
    });
  }
}

const wakeups = new WeakMap<Database, Wakeup>();
const listening = new WeakSet<Database>();

export function wakeupFor(database: Database): Wakeup {
  let wakeup = wakeups.get(database);
  if (!wakeup) {
    wakeup = new Wakeup();
    wakeups.set(database, wakeup);
  }
  return wakeup;
}

/** Starts listening for committed deliveries, once per database. Safe to call on every tick. */
export async function ensureListening(ctx: AppContext): Promise<void> {
  const { database } = ctx;
  if (listening.has(database)) return;
  listening.add(database);
  const wakeup = wakeupFor(database);
  const onNotify = () => {
    wakeup.notify();
    ctx.kick("webhook-delivery");
  };
  try {
    if (database.kind === "pglite") {
      // One in-process connection: a session hears its own NOTIFY, sent when the transaction commits.
      await (database.db as any).$client.listen(deliveryChannel, onNotify);
    } else {
      await listenOnPostgres(ctx, database, onNotify);
    }
  } catch (error) {
    listening.delete(database);
    ctx.log.warn({ err: error }, "webhook delivery: cannot listen for notifications; polling only");
  }
}

/**
 * A dedicated connection (LISTEN needs a session of its own, outside the pool). It reconnects after errors, never
 * keeps the process alive, and ends when the pool ends.
 */
function listenOnPostgres(ctx: AppContext, database: Database, onNotify: () => void): Promise<void> {
  const pool = database.pool!;
  let client: pg.Client | undefined;
  const connect = async () => {
    if ((pool as any).ending) return;
    const c = new pg.Client((pool as any).options);
    client = c;
    c.on("notification", onNotify);
    c.on("error", () => {
      if (client !== c) return; // this connection was already given up
      client = undefined;
      c.end().catch(() => {});
      setTimeout(connect, 1_000).unref();
    });
    try {
      await c.connect();
      (c as any).connection?.stream?.unref?.();
      await c.query(`listen ${deliveryChannel}`);
    } catch (error) {
      ctx.log.warn({ err: error }, "webhook delivery: listen failed; retrying");
      c.emit("error", error);
    }
  };
  const first = connect();
  const watch = setInterval(() => {
    if (!(pool as any).ending) return;
    clearInterval(watch);
    const c = client;
    client = undefined;
    c?.removeAllListeners("error");
    c?.on("error", () => {});
    c?.end().catch(() => {});
  }, 500);
  watch.unref();
  return first;
}
