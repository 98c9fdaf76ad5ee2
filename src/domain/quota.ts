import { and, eq, inArray, sql } from "drizzle-orm";
import type { Executor } from "../db/client.js";
import { instances, jobs, tenants } from "../db/schema/index.js";
import { queryRows } from "../db/sql.js";
import { ApiError } from "../lib/errors.js";

/** Instance states that hold GPUs (a stopped instance gives its GPUs back). */
export const gpuHoldingInstanceStates = ["ordered", "provisioning", "running", "stopping", "deleting"] as const;
/** Job states that hold GPUs. */
export const gpuHoldingJobStates = ["scheduled", "running"] as const;

/**
 * GPUs a tenant holds now: instances and jobs together, one quota for both (the fleet seed's `gpu_quota`).
 */
export async function tenantGpuUsage(tx: Executor, tenantId: number): Promise<number> {
  const [i] = await tx
    .select({ n: sql<string>`coalesce(sum(${instances.gpuCount}), 0)` })
    .from(instances)
    .where(and(eq(instances.tenantId, tenantId), inArray(instances.status, [...gpuHoldingInstanceStates])));
  const [j] = await tx
    .select({ n: sql<string>`coalesce(sum(${jobs.gpuCount}), 0)` })
    .from(jobs)
    .where(and(eq(jobs.tenantId, tenantId), inArray(jobs.status, [...gpuHoldingJobStates])));
  return Number(i.n) + Number(j.n);
}

/**
 * Refuses `extra` more GPUs for a tenant when they would pass its quota. Call inside the transaction that takes the
 * GPUs: it locks the tenant row so that two concurrent requests cannot both pass the check.
 */
export async function assertQuota(tx: Executor, tenantId: number, extra: number): Promise<void> {
  const [tenant] = await queryRows<{ gpu_quota: number }>(
    tx,
    sql`select gpu_quota from ${tenants} where ${tenants.id} = ${tenantId} for update`,
  );
  if (!tenant) throw new ApiError("NOT_FOUND", "tenant not found");
  const used = await tenantGpuUsage(tx, tenantId);
  if (used + extra > tenant.gpu_quota) {
    throw new ApiError(
      "CONFLICT",
      `GPU quota exceeded: this would use ${used + extra} GPUs and the quota is ${tenant.gpu_quota} (${used} in use)`,
      { quota: tenant.gpu_quota, in_use: used, requested: extra },
    );
  }
}
