import { z } from "@hono/zod-openapi";
import type { WaitlistEntry } from "../../domain/waitlist/entries.js";
import { waitlistModes, waitlistStatuses } from "../../domain/waitlist/entries.js";
import { PageQuery } from "../../http/pagination.js";
import { int32, safeName, urlInt } from "../../lib/schemas.js";

const Deploy = z
  .object({
    cluster_type: z.string().max(100).optional(),
    image: z.string().min(1).max(200).openapi({ example: "ubuntu-24.04-cuda-12.8-cluster" }),
    hostname: safeName(63).openapi({ example: "my-training-run" }),
    ssh_key_ids: z.array(z.string().min(1).max(64)).max(20),
    location: z.string().max(64).optional(),
    volume_ids: z.array(z.string().min(1).max(64)).max(10).optional(),
  })
  .strict()
  .openapi("WaitlistDeploy", { description: "Seed 001's deploy body; type and location default to the entry's" });

export const JoinWaitlistBody = z
  .object({
    instance_type: z.string().min(1).max(100).optional().openapi({ example: "1B200.200S.30V" }),
    cluster_type: z.string().min(1).max(100).optional(),
    plan_id: z.string().min(1).max(100).optional(),
    region: z.string().min(1).max(64).optional().openapi({ example: "eu-central-1" }),
    location: z.string().min(1).max(64).optional(),
    mode: z.enum(waitlistModes).default("notify"),
    deploy: Deploy.optional(),
    tenant_id: int32().optional().openapi({ description: "Operator keys: act for a tenant" }),
  })
  .strict()
  .openapi("JoinWaitlist");

export const WaitlistEntrySchema = z
  .object({
    id: z.string(),
    instance_type: z.string().openapi({ description: "As asked (plan id or cluster type)" }),
    instance_type_id: z.string(),
    region: z.string(),
    mode: z.enum(waitlistModes),
    status: z.enum(waitlistStatuses),
    status_reason: z.string().nullable(),
    position: z.number().int().nullable().openapi({ description: "1 = next served; null once no longer waiting" }),
    instance_id: z.string().nullable().openapi({
      description:
        "The instance deployed for it; for an order waiting for capacity (created with waitlist: true), that order from the start",
    }),
    deploy: Deploy.nullable().openapi({
      description: "What auto_deploy creates; null for notify and for a waiting order",
    }),
    created_at: z.string(),
    fulfilled_at: z.string().nullable(),
  })
  .openapi("WaitlistEntry");

export const entryView = (e: WaitlistEntry) => ({
  id: e.id,
  instance_type: e.requestedType ?? e.instanceTypeId,
  instance_type_id: e.instanceTypeId,
  region: e.regionId,
  mode: e.mode,
  status: e.status,
  status_reason: e.statusReason,
  position: e.position,
  instance_id: e.instanceId,
  deploy: e.deployRequest ?? null,
  created_at: e.createdAt.toISOString(),
  fulfilled_at: e.fulfilledAt?.toISOString() ?? null,
});

export const TenantQuery = z.object({
  tenant_id: urlInt().optional().openapi({ description: "Operator keys: a tenant's" }),
});
export const WaitlistListQuery = PageQuery.extend(TenantQuery.shape).extend({
  status: z.enum(waitlistStatuses).optional(),
});
export const EntryId = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "id", in: "path" } }),
});
