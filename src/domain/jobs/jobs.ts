import { and, count, desc, eq, lt, type SQL } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import { clusters, jobs, tenants } from "../../db/schema/index.js";
import { type PageQuery, paginate } from "../../http/pagination.js";
import { notFound, OverQuota } from "../../lib/errors.js";

export type JobRow = typeof jobs.$inferSelect;

export const jobStatuses = ["queued", "blocked", "scheduled", "running", "completed", "failed", "cancelled"] as const;
export type JobStatus = (typeof jobStatuses)[number];
export const terminalStatuses: readonly JobStatus[] = ["completed", "failed", "cancelled"];

/** Why a job waits, as a code a program can branch on (Slurm's `Reason`, Kueue's conditions). */
export const pendingCodes = [
  "queued",
  "quota",
  "gpu_type",
  "reserved",
  "fragmentation",
  "priority",
  "capacity",
  "credits",
  "held",
] as const;
export type PendingCode = (typeof pendingCodes)[number];

const codeOfPrefix: Record<string, PendingCode> = {
  quota: "quota",
  "no matching GPU type": "gpu_type",
  reserved: "reserved",
  fragmentation: "fragmentation",
  priority: "priority",
  "no capacity": "capacity",
  credits: "credits",
};

/**
 * A waiting job's reason (queued or blocked; null once it has GPUs or has ended): the scheduler's own reasons by their
 * prefix, anything else an operator wrote as `held`, and a queued job the scheduler has not looked at yet as `queued`.
 */
export function pendingReason(
  status: string,
  blockReason: string | null,
): { code: PendingCode; message: string } | null {
  if (status !== "queued" && status !== "blocked") return null;
  if (!blockReason) return { code: "queued", message: "waiting for the next scheduling pass" };
  const colon = blockReason.indexOf(":");
  const code = colon > 0 ? codeOfPrefix[blockReason.slice(0, colon)] : undefined;
  if (code) return { code, message: blockReason.slice(colon + 1).trim() };
  return { code: status === "blocked" ? "held" : "queued", message: blockReason };
}

export interface SubmitJobInput {
  clusterId: number;
  name: string;
  gpuCount: number;
  gpuType?: string | null;
  priority: number;
  tenantId: number | null;
  submittedBy?: string | null;
  estimatedDurationMin?: number | null;
  command?: string | null;
  image?: string | null;
  env?: Record<string, string> | null;
}

/**
 * Queues a job. A job asking for more GPUs than its tenant's whole quota could never run and is refused here;
 * one that fits the quota but not the fleet right now waits ("blocked" with a reason) and the scheduler, kicked
 * now, places it as soon as it can.
 */
export async function submitJob(ctx: AppContext, input: SubmitJobInput): Promise<JobRow> {
  const [cluster] = await ctx.db.select({ id: clusters.id }).from(clusters).where(eq(clusters.id, input.clusterId));
  if (!cluster) throw notFound(`cluster ${input.clusterId}`);
  if (input.tenantId !== null) {
    const [tenant] = await ctx.db
      .select({ quota: tenants.gpuQuota })
      .from(tenants)
      .where(eq(tenants.id, input.tenantId));
    if (!tenant) throw notFound("tenant");
    if (input.gpuCount > tenant.quota) {
      throw new OverQuota(
        `gpu_count ${input.gpuCount} exceeds the tenant's GPU quota of ${tenant.quota}; the job could never run`,
        { quota: tenant.quota, requested: input.gpuCount },
      );
    }
  }
  const [row] = await ctx.db
    .insert(jobs)
    .values({
      clusterId: input.clusterId,
      tenantId: input.tenantId,
      name: input.name,
      gpuCount: input.gpuCount,
      gpuType: input.gpuType ?? null,
      priority: input.priority,
      submittedBy: input.submittedBy ?? null,
      estimatedDurationMin: input.estimatedDurationMin ?? null,
      command: input.command ?? null,
      image: input.image ?? null,
      env: input.env ?? null,
      status: "queued",
      createdAt: ctx.clock.now(),
    })
    .returning();
  kickScheduler(ctx);
  return row;
}

/** A job, or 404; `tenantId` set = a tenant's key, which sees only its own jobs. */
export async function getJob(ctx: AppContext, id: number, tenantId: number | null): Promise<JobRow> {
  const where = tenantId === null ? eq(jobs.id, id) : and(eq(jobs.id, id), eq(jobs.tenantId, tenantId));
  const [row] = await ctx.db.select().from(jobs).where(where);
  if (!row) throw notFound("job");
  return row;
}

export interface JobFilter {
  tenantId?: number | null;
  clusterId?: number;
  status?: JobStatus;
}

export async function listJobs(ctx: AppContext, filter: JobFilter, page: PageQuery) {
  const conditions: SQL[] = [];
  if (filter.tenantId != null) conditions.push(eq(jobs.tenantId, filter.tenantId));
  if (filter.clusterId !== undefined) conditions.push(eq(jobs.clusterId, filter.clusterId));
  if (filter.status) conditions.push(eq(jobs.status, filter.status));
  return paginate(
    page,
    (after, take) =>
      ctx.db
        .select()
        .from(jobs)
        .where(and(...conditions, after === undefined ? undefined : lt(jobs.id, Number(after))))
        .orderBy(desc(jobs.id))
        .limit(take),
    async () =>
      (
        await ctx.db
          .select({ n: count() })
          .from(jobs)
          .where(and(...conditions))
      )[0].n,
  );
}

/**
 * Asks the scheduler for a pass now. A server whose loops are not running (workers off: an API-only replica, a
 * one-off command) ignores the kick; the next pass is another replica's business.
 */
export function kickScheduler(ctx: AppContext): void {
  ctx.kick("scheduler");
}
