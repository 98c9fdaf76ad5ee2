import { z } from "@hono/zod-openapi";
import { attachToInstance, detachFromInstance } from "../../domain/volumes/attach.js";
import {
  createVolume,
  deleteVolume,
  getVolume,
  listVolumes,
  type VolumeRow,
  volumeTypes,
} from "../../domain/volumes/volumes.js";
import { actingFor, createRoute, listTenant, tenant, tenantScope } from "../../http/access.js";
import { appCtx, router } from "../../http/env.js";
import {
  commonErrors,
  envelope,
  errorResponses,
  jsonBody,
  jsonResponse,
  listEnvelope,
  ok,
  okList,
} from "../../http/envelope.js";
import { PageQuery } from "../../http/pagination.js";
import { badRequest } from "../../lib/errors.js";
import { microsToUsd, microsToUsdNumber } from "../../lib/money.js";
import { int32, safeName, urlInt } from "../../lib/schemas.js";

export const Volume = z
  .object({
    id: z.string(),
    name: z.string(),
    size_gb: z.number().int(),
    type: z.enum(volumeTypes),
    region: z.string(),
    location: z.string(),
    status: z.string().openapi({ example: "available" }),
    instance_id: z.string().nullable(),
    price_per_gb_month: z.string().openapi({ example: "0.200000" }),
    price_per_month_usd: z.number().openapi({ description: "size × price per GB-month, rounded from the exact value" }),
    tenant_id: z.number().int(),
    created_at: z.string(),
    deleted_at: z.string().nullable(),
  })
  .openapi("Volume");

const view = (v: VolumeRow) => ({
  id: v.id,
  name: v.name,
  size_gb: v.sizeGb,
  type: v.type,
  region: v.regionId,
  location: v.regionId,
  status: v.status,
  instance_id: v.instanceId,
  price_per_gb_month: microsToUsd(v.pricePerGbMonthMicros),
  price_per_month_usd: microsToUsdNumber(v.pricePerGbMonthMicros * BigInt(v.sizeGb)),
  tenant_id: v.tenantId,
  created_at: v.createdAt.toISOString(),
  deleted_at: v.deletedAt?.toISOString() ?? null,
});

const CreateVolume = z
  .object({
    name: safeName(128),
    size_gb: z.number().int().min(1).max(65_536),
    type: z.enum(volumeTypes).default("nvme"),
    region: z.string().min(1).max(40).optional().openapi({ example: "FIN-01" }),
    location: z.string().min(1).max(40).optional().openapi({ description: "Same as region (seed 001's word)" }),
    tenant_id: int32().optional(),
  })
  .strict()
  .openapi("CreateVolume");

const Id = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "id", in: "path" } }),
});
const tags = ["Volumes"];
const errors = { ...commonErrors, ...errorResponses };
export const volumeRoutes = router();

volumeRoutes.openapi(
  createRoute({
    method: "post",
    path: "/volumes",
    access: tenant("volumes", "write"),
    tags,
    summary: "Create a persistent volume (NVMe or HDD) in a region; billed per GB-month",
    request: jsonBody(CreateVolume),
    responses: { 201: jsonResponse(envelope(Volume), "Created"), ...errors },
  }),
  async (c) => {
    const ctx = appCtx(c);
    const b = c.req.valid("json");
    const regionId = b.region ?? b.location;
    if (!regionId) throw badRequest('region is required (e.g. "FIN-01"; see GET /api/v1/regions)');
    const row = await createVolume(ctx, ctx.db, actingFor(c, b.tenant_id), {
      name: b.name,
      sizeGb: b.size_gb,
      type: b.type,
      regionId,
    });
    return ok(c, Volume, view(row), 201);
  },
);

volumeRoutes.openapi(
  createRoute({
    method: "get",
    path: "/volumes",
    access: tenant("volumes", "read"),
    tags,
    summary: "List volumes",
    request: {
      query: PageQuery.extend({
        tenant_id: urlInt().optional().openapi({ description: "Operator keys: one tenant's" }),
      }),
    },
    responses: { 200: jsonResponse(listEnvelope(Volume), "Volumes"), ...commonErrors },
  }),
  async (c) => {
    const query = c.req.valid("query");
    const page = await listVolumes(appCtx(c), listTenant(c, query.tenant_id), query);
    return okList(c, Volume, { ...page, items: page.items.map(view) });
  },
);

volumeRoutes.openapi(
  createRoute({
    method: "get",
    path: "/volumes/{id}",
    access: tenant("volumes", "read"),
    tags,
    summary: "Get a volume",
    request: { params: Id },
    responses: { 200: jsonResponse(envelope(Volume), "Volume"), ...commonErrors },
  }),
  async (c) => {
    return ok(c, Volume, view(await getVolume(appCtx(c).db, tenantScope(c), c.req.valid("param").id)));
  },
);

volumeRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/volumes/{id}",
    access: tenant("volumes", "write"),
    tags,
    summary: "Delete a volume (409 while attached: detach it first)",
    request: { params: Id },
    responses: { 200: jsonResponse(envelope(Volume), "Deleted"), ...errors },
  }),
  async (c) => {
    return ok(c, Volume, view(await deleteVolume(appCtx(c), tenantScope(c), c.req.valid("param").id)), 200);
  },
);

const AttachBody = z
  .object({ volume_id: z.string().min(1).max(64) })
  .strict()
  .openapi("AttachVolume");
const DetachParams = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "id", in: "path" } }),
  volume_id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "volume_id", in: "path" } }),
});

for (const base of ["/instances", "/deployments"]) {
  volumeRoutes.openapi(
    createRoute({
      method: "post",
      path: `${base}/{id}/volumes`,
      access: tenant("volumes", "write", "instance_action"),
      tags,
      summary: "Attach a volume (same region; not attached elsewhere)",
      request: { params: Id, ...jsonBody(AttachBody) },
      responses: { 200: jsonResponse(envelope(Volume), "Attached"), ...errors },
    }),
    async (c) => {
      const row = await attachToInstance(
        appCtx(c),
        tenantScope(c),
        c.req.valid("param").id,
        c.req.valid("json").volume_id,
      );
      return ok(c, Volume, view(row), 200);
    },
  );
  volumeRoutes.openapi(
    createRoute({
      method: "delete",
      path: `${base}/{id}/volumes/{volume_id}`,
      access: tenant("volumes", "write", "instance_action"),
      tags,
      summary: "Detach a volume; it keeps its data",
      request: { params: DetachParams },
      responses: { 200: jsonResponse(envelope(Volume), "Detached"), ...errors },
    }),
    async (c) => {
      const p = c.req.valid("param");
      return ok(c, Volume, view(await detachFromInstance(appCtx(c), tenantScope(c), p.id, p.volume_id)), 200);
    },
  );
}
