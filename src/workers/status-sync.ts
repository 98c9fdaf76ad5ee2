import { and, asc, gt, inArray, notInArray } from "drizzle-orm";
import type { AppContext } from "../context.js";
import { instances } from "../db/schema/index.js";
import {
  markInstanceDeleted,
  markInstanceFailed,
  markInstanceLost,
  markInstanceRunning,
} from "../domain/instances/lifecycle.js";
import type { InstanceRow } from "../domain/instances/row.js";
import { itemFailed } from "../domain/loops/isolate.js";
import { providers } from "../domain/placement/registry.js";
import { reconcileUpstreams } from "../domain/providers/reconcile.js";
import { upstreamNames } from "../providers/upstream/types.js";
import type { Worker } from "./runner.js";

const BATCH = 500;

/**
 * Keeps every live instance in step with its provider: provisioning ones become running (or failed), running ones
 * the provider lost become failed (`instance.lost` + `instance.failed`), deleting ones become deleted. Each change
 * runs in its own transaction with the row locked and its state re-checked, so a customer's stop or delete that
 * lands meanwhile wins cleanly. Resold clouds are reconciled in a batch first: one list call per cloud per pass.
 */
export const statusSync: Worker = {
  name: "status-sync",
  intervalMs: () => 5_000,
  async tick(ctx) {
    const upstreams = await reconcileUpstreams(ctx);
    let after = "";
    const changed = { running: 0, failed: 0, lost: 0, deleted: 0, upstreams };
    for (;;) {
      const batch = await ctx.db
        .select()
        .from(instances)
        .where(
          and(
            inArray(instances.status, ["provisioning", "running", "deleting"]),
            notInArray(instances.provider, [...upstreamNames]),
            gt(instances.id, after),
          ),
        )
        .orderBy(asc(instances.id))
        .limit(BATCH);
      for (const row of batch) {
        try {
          const outcome = await syncOne(ctx, row);
          if (outcome) changed[outcome]++;
        } catch (error) {
          itemFailed(ctx, "status-sync", row.id, error);
        }
      }
      if (batch.length < BATCH) break;
      after = batch[batch.length - 1].id;
    }
    return changed;
  },
};

async function syncOne(ctx: AppContext, row: InstanceRow) {
  const status = await providers(ctx).byName(row.provider).status(ctx, row);
  switch (status.state) {
    case "running":
      if (row.status !== "provisioning") return null;
      await markInstanceRunning(ctx, row.id, status.endpoint);
      return "running" as const;
    case "failed":
      await markInstanceFailed(ctx, row.id, status.reason);
      return "failed" as const;
    case "lost":
      await markInstanceLost(ctx, row.id, status.reason);
      return "lost" as const;
    case "deleted":
      if (row.status !== "deleting") return null;
      await markInstanceDeleted(ctx, row.id);
      return "deleted" as const;
    default:
      return null;
  }
}
