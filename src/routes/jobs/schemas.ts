import { z } from "@hono/zod-openapi";
import { type JobRow, jobStatuses, pendingCodes, pendingReason } from "../../domain/jobs/jobs.js";
import { microsToUsd } from "../../lib/money.js";
import { int32, safeName, urlInt } from "../../lib/schemas.js";
import { OciRef } from "../catalog/schemas.js";

export const Job = z
  .object({
    id: z.number().int(),
    cluster_id: z.number().int(),
    tenant_id: z.number().int().nullable(),
    name: z.string(),
    gpu_count: z.number().int(),
    gpu_type: z.string().nullable(),
    priority: z.number().int().openapi({ description: "1 = highest" }),
    status: z.enum(jobStatuses),
    block_reason: z.string().nullable(),
    pending_reason: z
      .object({
        code: z.enum(pendingCodes),
        message: z.string(),
      })
      .nullable()
      .openapi({
        description:
          "Why a queued or blocked job waits (null once it has GPUs or has ended): queued (not yet considered by the scheduler), quota, gpu_type (no node has that type or that many), reserved (GPUs that fit are held for a job ahead), fragmentation (enough GPUs free, not on one node), priority (jobs ahead took them), capacity, credits, held (an operator's block)",
      }),
    submitted_by: z.string().nullable(),
    estimated_duration_min: z.number().int().nullable(),
    command: z.string().nullable(),
    image: z
      .string()
      .nullable()
      .openapi({ description: "Container image the command runs in (null: the node's default)" }),
    node_id: z.number().int().nullable(),
    gpu_indices: z.array(z.number().int()).nullable(),
    price_per_gpu_hour_usd: z
      .string()
      .nullable()
      .openapi({ description: "Exact decimal dollars charged per GPU-hour while running; null = not billed" }),
    exit_code: z.number().int().nullable(),
    output_tail: z.string().nullable(),
    created_at: z.string(),
    scheduled_at: z.string().nullable(),
    started_at: z.string().nullable(),
    finished_at: z.string().nullable(),
  })
  .openapi("Job");

/** The job's env is not echoed back: it may carry secrets for the command. */
export const jobView = (j: JobRow) => ({
  id: j.id,
  cluster_id: j.clusterId,
  tenant_id: j.tenantId,
  name: j.name,
  gpu_count: j.gpuCount,
  gpu_type: j.gpuType,
  priority: j.priority,
  status: j.status,
  block_reason: j.blockReason,
  pending_reason: pendingReason(j.status, j.blockReason),
  submitted_by: j.submittedBy,
  estimated_duration_min: j.estimatedDurationMin,
  command: j.command,
  image: j.image,
  node_id: j.nodeId,
  gpu_indices: j.gpuIndices,
  price_per_gpu_hour_usd: j.pricePerGpuHourMicros === null ? null : microsToUsd(j.pricePerGpuHourMicros),
  exit_code: j.exitCode,
  output_tail: j.outputTail,
  created_at: j.createdAt.toISOString(),
  scheduled_at: j.scheduledAt?.toISOString() ?? null,
  started_at: j.startedAt?.toISOString() ?? null,
  finished_at: j.finishedAt?.toISOString() ?? null,
});

export const SubmitJobBody = z
  .object({
    cluster_id: int32(),
    name: safeName(200),
    gpu_count: z.number().int().min(1).max(64).default(1),
    gpu_type: z
      .string()
      .trim()
      .min(1)
      .max(100)
      .optional()
      .openapi({ description: 'GPU model preference, matched as a word: "H100" matches "NVIDIA H100 80GB HBM3"' }),
    priority: z.number().int().min(1).max(10).default(5).openapi({ description: "1 = highest (default 5)" }),
    tenant_id: int32().optional(),
    submitted_by: safeName(200).optional(),
    estimated_duration_min: z.number().int().min(1).max(525_600).optional(),
    command: z.string().min(1).max(65_536).optional().openapi({ description: "Shell command for the node agent" }),
    image: OciRef.optional().openapi({
      description: "Container image to run the command in on a fleet node (default: the operator's job image)",
    }),
    env: z
      .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "env names must be shell variable names"), z.string())
      .optional(),
  })
  .strict()
  .openapi("SubmitJob");

export const StatusBody = z
  .object({
    status: z.enum(jobStatuses),
    block_reason: z.string().trim().min(1).max(1000).optional(),
  })
  .strict()
  .openapi("JobStatusChange");

export const JobListQuery = z.object({
  status: z.enum(jobStatuses).optional(),
  cluster_id: urlInt().optional(),
  tenant_id: urlInt().optional(),
});
