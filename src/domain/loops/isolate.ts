import { Counter, type Registry } from "prom-client";
import type { AppContext } from "../../context.js";

/**
 * Per-item isolation for background loops: one bad rule, tenant, partition or webhook is logged with its id and
 * counted in /metrics, and the rest of the pass goes on. Without it one poisoned row stopped a loop for good (an
 * alert rule with an impossible scope failed every rule after it, every 30 s).
 */
const counters = new WeakMap<AppContext, Counter<"loop">>();

/** Registers the failure counter in the server's registry (server.ts), so /metrics shows it. */
export function attachLoopMetrics(ctx: AppContext, registry: Registry): void {
  counters.set(
    ctx,
    new Counter({
      name: "gpuplane_loop_item_failures_total",
      help: "Items a background loop could not process in a pass (logged with their id); the pass went on",
      labelNames: ["loop"],
      registers: [registry],
    }),
  );
}

/** Records one failed item: a log line naming the loop and the item, and the counter. */
export function itemFailed(ctx: AppContext, loop: string, item: string | number, error: unknown): void {
  ctx.log.error({ err: error, loop, item }, `${loop}: item ${item} failed; the rest of the pass goes on`);
  counters.get(ctx)?.inc({ loop });
}

/**
 * Runs `work` for each item in turn; a throw is recorded by `itemFailed` and the next item runs. Returns the results
 * of the items that succeeded and how many failed.
 */
export async function eachIsolated<T, R>(
  ctx: AppContext,
  loop: string,
  items: Iterable<T>,
  idOf: (item: T) => string | number,
  work: (item: T) => Promise<R>,
): Promise<{ results: R[]; failed: number }> {
  const results: R[] = [];
  let failed = 0;
  for (const item of items) {
    try {
      results.push(await work(item));
    } catch (error) {
      failed++;
      itemFailed(ctx, loop, idOf(item), error);
    }
  }
  return { results, failed };
}

/** One step of a pass (a roll-up, a retention delete) isolated like an item: its failure skips only itself. */
export async function step<R>(ctx: AppContext, loop: string, name: string, work: () => Promise<R>): Promise<R | null> {
  try {
    return await work();
  } catch (error) {
    itemFailed(ctx, loop, name, error);
    return null;
  }
}
