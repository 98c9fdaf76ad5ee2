/**
 * Job state changes after scheduling: operators (PATCH status), tenants (cancel), the node agent (reportJobStatus),
 * billing (preemptTenantJobs) and node-down handling (markNodeJobsLost). Leaving a GPU-holding state gives the
 * GPUs back (releaseGpus) in the same transaction and kicks the scheduler.
 *
 * Preemption and lost nodes end jobs as "failed" (not requeued): a tenant out of credits must not be started again
 * at once, and a job's command may not be safe to run twice. block_reason and output_tail say why; an operator may
 * requeue a failed job with PATCH status "queued".
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import type { Executor } from "../../db/client.js";
import { gpuAllocations, jobs } from "../../db/schema/index.js";
import { conflict, notFound } from "../../lib/errors.js";
import { capacityFreed } from "../capacity.js";
import { emitEvent } from "../events/emit.js";
import { releaseGpus } from "../fleet/allocate.js";
import { type JobRow, type JobStatus, terminalStatuses } from "./jobs.js";

/** Which manual moves are allowed from each state (the scheduler alone moves queued/blocked → scheduled). */
const transitions: Record<JobStatus, readonly JobStatus[]> = {
  queued: ["blocked", "cancelled"],
  blocked: ["queued", "blocked", "cancelled"],
  scheduled: ["running", "completed", "failed", "cancelled"],
  running: ["completed", "failed", "cancelled"],
  failed: ["queued"],
  completed: [],
  cancelled: [],
};

const holdsGpus = (s: string) => s === "scheduled" || s === "running";
const OUTPUT_TAIL_MAX = 16_384;

export interface StatusChange {
  status: JobStatus;
  blockReason?: string | null;
  exitCode?: number | null;
  outputTail?: string | null;
  /** When the job ended, if the agent saw it end before now: billing ends then (not before what was billed). */
  endedAt?: Date;
}

/** PATCH /jobs/{id}/status: checks the transition (409 naming the state) and applies it. */
export async function setJobStatus(
  ctx: AppContext,
  jobId: number,
  tenantId: number | null,
  change: StatusChange,
): Promise<JobRow> {
  return applyChange(ctx, jobId, change, (row) => {
    if (tenantId !== null && row.tenantId !== tenantId) throw notFound("job");
    return undefined;
  });
}

/** POST /jobs/{id}/cancel. */
export async function cancelJob(ctx: AppContext, jobId: number, tenantId: number | null): Promise<JobRow> {
  return setJobStatus(ctx, jobId, tenantId, { status: "cancelled" });
}

/**
 * The node agent reports on a job it was given: running, completed or failed, with the exit code and the end of
 * its output. A report about a job not on that node is a 404; a repeated report is harmless; a report on a job
 * that has meanwhile ended (cancelled) returns it unchanged, so the agent sees it should stop.
 */
export async function reportJobStatus(
  ctx: AppContext,
  jobId: number,
  nodeId: number,
  report: Omit<StatusChange, "status" | "blockReason"> & { status: "running" | "completed" | "failed" },
): Promise<JobRow> {
  return applyChange(
    ctx,
    jobId,
    { status: report.status, exitCode: report.exitCode, outputTail: report.outputTail, endedAt: report.endedAt },
    (row) => {
      if (row.nodeId !== nodeId) throw notFound("job");
      if (terminalStatuses.includes(row.status as JobStatus) || row.status === report.status) return "unchanged";
      return undefined;
    },
  );
}

/** Jobs the agent on a node should be running: scheduled or running there, with their command and environment. */
export async function jobsForNode(ctx: AppContext, nodeId: number): Promise<JobRow[]> {
  return ctx.db
    .select()
    .from(jobs)
    .where(and(eq(jobs.nodeId, nodeId), inArray(jobs.status, ["scheduled", "running"])))
    .orderBy(jobs.id);
}

/**
 * Billing auto-stop: every scheduled or running job of the tenant ends as "failed", noting the preemption, and
 * gives its GPUs back. Returns the ids of the preempted jobs.
 */
export async function preemptTenantJobs(ctx: AppContext, tenantId: number, reason: string): Promise<number[]> {
  return endHoldingJobs(ctx, eq(jobs.tenantId, tenantId), `preempted: ${reason}`, "job.preempted");
}

/** The node is gone: its scheduled and running jobs end as "failed" ("node lost: …") and their GPUs are released. */
export async function markNodeJobsLost(ctx: AppContext, nodeId: number, reason: string): Promise<number[]> {
  return endHoldingJobs(ctx, eq(jobs.nodeId, nodeId), `node lost: ${reason}`, "job.failed");
}

async function endHoldingJobs(
  ctx: AppContext,
  where: ReturnType<typeof eq>,
  why: string,
  event: "job.preempted" | "job.failed",
): Promise<number[]> {
  const now = ctx.clock.now();
  const ended = await ctx.db.transaction(async (tx) => {
    const rows = await tx
      .update(jobs)
      .set({
        status: "failed",
        blockReason: why,
        finishedAt: now,
        outputTail: sql`right(coalesce(${jobs.outputTail} || E'\n', '') || ${`[gpuplane] ${why}`}, ${OUTPUT_TAIL_MAX})`,
      })
      .where(and(where, inArray(jobs.status, ["scheduled", "running"])))
      .returning();
    if (!rows.length) return rows;
    await tx.delete(gpuAllocations).where(
      inArray(
        gpuAllocations.jobId,
        rows.map((r) => r.id),
      ),
    );
    for (const row of rows) {
      await emitEvent(tx, row.tenantId, event, { ...eventData(row), reason: why }, now);
    }
    return rows;
  });
  if (ended.length) capacityFreed(ctx); // the GPUs given back may serve a waiting job or instance
  return ended.map((r) => r.id);
}

/**
 * Locks the job, lets `check` refuse (throw) or declare the change a no-op ("unchanged"), validates the transition
 * and writes it with its side effects: timestamps, GPU release, event.
 */
async function applyChange(
  ctx: AppContext,
  jobId: number,
  change: StatusChange,
  check: (row: JobRow) => "unchanged" | undefined,
): Promise<JobRow> {
  const now = ctx.clock.now();
  let released = false;
  const row = await ctx.db.transaction(async (tx) => {
    const [current] = await tx.select().from(jobs).where(eq(jobs.id, jobId)).for("update");
    if (!current) throw notFound("job");
    if (check(current) === "unchanged") return current;
    const from = current.status as JobStatus;
    const to = change.status;
    if (from === to && to !== "blocked") throw conflict(`job is already ${from}`, { status: from });
    if (!transitions[from]?.includes(to)) {
      throw conflict(
        `job is ${from}; it cannot move to ${to}` +
          (to === "scheduled" ? " (the scheduler assigns GPUs: set it queued)" : ""),
        { status: from },
      );
    }
    const set: Partial<typeof jobs.$inferInsert> = { status: to };
    if (to === "blocked") set.blockReason = change.blockReason;
    if (to === "queued") {
      Object.assign(set, { blockReason: null, nodeId: null, gpuIndices: null, exitCode: null, finishedAt: null });
      Object.assign(set, { scheduledAt: null, startedAt: null, outputTail: null, pricePerGpuHourMicros: null });
    }
    if (to === "running") set.startedAt = now;
    if (terminalStatuses.includes(to)) {
      set.finishedAt = endOf(current, change.endedAt, now);
      if (from === "queued" || from === "blocked") set.blockReason = null;
    }
    if (change.exitCode !== undefined) set.exitCode = change.exitCode;
    if (change.outputTail != null) set.outputTail = change.outputTail.slice(-OUTPUT_TAIL_MAX);
    const [updated] = await tx.update(jobs).set(set).where(eq(jobs.id, jobId)).returning();
    if (holdsGpus(from) && !holdsGpus(to)) {
      await releaseGpus(tx, { jobId });
      released = true;
    }
    if (to === "queued") released = true; // back in the queue: worth a pass
    await emitStatusEvent(tx, updated, now);
    return updated;
  });
  if (released) capacityFreed(ctx); // the GPUs given back may serve a waiting job or instance
  return row;
}

function endOf(row: JobRow, endedAt: Date | undefined, now: Date): Date {
  if (!endedAt || !row.startedAt) return now;
  const floor = Math.max(row.startedAt.getTime(), row.meteredUntil?.getTime() ?? 0);
  return new Date(Math.min(now.getTime(), Math.max(floor, endedAt.getTime())));
}

async function emitStatusEvent(tx: Executor, row: JobRow, at: Date) {
  const type = (
    {
      running: "job.running",
      completed: "job.completed",
      failed: "job.failed",
      cancelled: "job.cancelled",
      blocked: "job.blocked",
    } as const
  )[row.status as "running"];
  if (type) await emitEvent(tx, row.tenantId, type, eventData(row), at);
}

function eventData(row: JobRow) {
  return {
    job_id: row.id,
    name: row.name,
    status: row.status,
    node_id: row.nodeId,
    exit_code: row.exitCode,
    block_reason: row.blockReason,
  };
}
