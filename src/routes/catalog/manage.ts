import { z } from "@hono/zod-openapi";
import { createImage, updateImage } from "../../domain/catalog/images.js";
import { createRegion, updateRegion } from "../../domain/catalog/regions.js";
import { createInstanceType, type InstanceTypePatch, updateInstanceType } from "../../domain/catalog/types.js";
import { createRoute, operator } from "../../http/access.js";
import { appCtx, auditActor, router } from "../../http/env.js";
import { commonErrors, envelope, errorResponses, jsonBody, jsonResponse, ok } from "../../http/envelope.js";
import { usdToMicros } from "../../lib/money.js";
import { int32, safeName } from "../../lib/schemas.js";
import {
  Image,
  InstanceTypeSchema,
  imageView,
  instanceTypeView,
  OciRef,
  Region,
  regionView,
  UpstreamImages,
} from "./schemas.js";

/** Operators manage the catalog: instance types (with aliases and regional prices), images and regions. */
export const manageRoutes = router();
const tags = ["Catalog (operator)"];
const Id = z.object({
  id: z
    .string()
    .min(1)
    .max(128)
    .openapi({ param: { name: "id", in: "path" } }),
});
const usd = z
  .string()
  .regex(
    /^\d{1,7}(\.\d{1,6})?$/,
    'must be a decimal dollar amount under 10,000,000 with at most 6 decimals, e.g. "2.49"',
  )
  .openapi({ example: "2.49" });
const slug = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "letters, digits, '.', '_' and '-' only");

const TypeBody = z
  .object({
    id: slug,
    name: safeName(200),
    gpu_model: safeName(40),
    gpu_memory_gb: int32(),
    gpu_count: z.number().int().min(1).max(64),
    vcpus: int32(),
    ram_gb: int32(),
    disk_gb: int32(),
    price_per_hour: usd.openapi({ description: "USD per hour for the whole instance" }),
    billing_granularity_seconds: z.number().int().min(1).max(3600).optional(),
    minimum_charge: usd.optional(),
    active: z.boolean().optional(),
    aliases: z
      .array(z.object({ alias: slug, kind: z.enum(["plan", "cluster_type"]) }).strict())
      .max(10)
      .optional(),
    region_prices: z.record(z.string(), usd).optional(),
  })
  .strict()
  .openapi("CreateInstanceType");

const toTypeInput = (b: Partial<z.infer<typeof TypeBody>>): InstanceTypePatch => ({
  ...(b.name !== undefined && { name: b.name }),
  ...(b.gpu_model !== undefined && { gpuModel: b.gpu_model }),
  ...(b.gpu_memory_gb !== undefined && { gpuMemoryGb: b.gpu_memory_gb }),
  ...(b.gpu_count !== undefined && { gpuCount: b.gpu_count }),
  ...(b.vcpus !== undefined && { vcpus: b.vcpus }),
  ...(b.ram_gb !== undefined && { ramGb: b.ram_gb }),
  ...(b.disk_gb !== undefined && { diskGb: b.disk_gb }),
  ...(b.price_per_hour !== undefined && { pricePerHourMicros: usdToMicros(b.price_per_hour) }),
  ...(b.billing_granularity_seconds !== undefined && { billingGranularitySeconds: b.billing_granularity_seconds }),
  ...(b.minimum_charge !== undefined && { minimumChargeMicros: usdToMicros(b.minimum_charge) }),
  ...(b.active !== undefined && { active: b.active }),
  ...(b.aliases && { aliases: b.aliases }),
  ...(b.region_prices && {
    regionPrices: Object.entries(b.region_prices).map(([regionId, p]) => ({
      regionId,
      pricePerHourMicros: usdToMicros(p),
    })),
  }),
});

manageRoutes.openapi(
  createRoute({
    method: "post",
    path: "/instance-types",
    access: operator("write"),
    tags,
    summary: "Add an instance type (operator)",
    request: jsonBody(TypeBody),
    responses: {
      201: jsonResponse(envelope(InstanceTypeSchema), "Created"),
      ...commonErrors,
      409: errorResponses[409],
    },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const type = await createInstanceType(appCtx(c), auditActor(c), { ...(toTypeInput(body) as any), id: body.id });
    return ok(c, InstanceTypeSchema, instanceTypeView(type), 201);
  },
);

manageRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/instance-types/{id}",
    access: operator("write"),
    tags,
    summary: "Change an instance type: price, granularity, retire it, add aliases or regional prices (operator)",
    description: "Running instances keep the price they were created with.",
    request: { params: Id, ...jsonBody(TypeBody.omit({ id: true }).partial().strict().openapi("UpdateInstanceType")) },
    responses: { 200: jsonResponse(envelope(InstanceTypeSchema), "Updated"), ...commonErrors },
  }),
  async (c) => {
    const type = await updateInstanceType(
      appCtx(c),
      auditActor(c),
      c.req.valid("param").id,
      toTypeInput(c.req.valid("json")),
    );
    return ok(c, InstanceTypeSchema, instanceTypeView(type));
  },
);

const RegionBody = z
  .object({ id: slug, name: safeName(200), country: z.string().max(2).nullable().optional() })
  .strict()
  .openapi("CreateRegion");

manageRoutes.openapi(
  createRoute({
    method: "post",
    path: "/regions",
    access: operator("write"),
    tags,
    summary: "Add a region (operator)",
    request: jsonBody(RegionBody),
    responses: { 201: jsonResponse(envelope(Region), "Created"), ...commonErrors, 409: errorResponses[409] },
  }),
  async (c) => {
    return ok(c, Region, regionView(await createRegion(appCtx(c), auditActor(c), c.req.valid("json"))), 201);
  },
);

manageRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/regions/{id}",
    access: operator("write"),
    tags,
    summary: "Rename or retire a region (operator)",
    request: {
      params: Id,
      ...jsonBody(
        RegionBody.omit({ id: true }).extend({ active: z.boolean() }).partial().strict().openapi("UpdateRegion"),
      ),
    },
    responses: { 200: jsonResponse(envelope(Region), "Updated"), ...commonErrors },
  }),
  async (c) => {
    return ok(
      c,
      Region,
      regionView(await updateRegion(appCtx(c), auditActor(c), c.req.valid("param").id, c.req.valid("json"))),
    );
  },
);

const ImageBody = z
  .object({
    id: slug,
    name: safeName(200),
    os: safeName(100),
    cuda_version: z.string().max(20).nullable().optional(),
    description: z.string().max(2000).nullable().optional(),
    compatible_gpus: z.array(z.string().min(1).max(40)).min(1),
    oci_ref: OciRef.nullable().optional(),
    upstream_images: UpstreamImages.nullable().optional(),
  })
  .strict()
  .openapi("CreateImage");

const toImage = (b: Partial<z.infer<typeof ImageBody>> & { active?: boolean }) => ({
  ...(b.name !== undefined && { name: b.name }),
  ...(b.os !== undefined && { os: b.os }),
  ...(b.cuda_version !== undefined && { cudaVersion: b.cuda_version }),
  ...(b.description !== undefined && { description: b.description }),
  ...(b.compatible_gpus !== undefined && { compatibleGpus: b.compatible_gpus }),
  ...(b.oci_ref !== undefined && { ociRef: b.oci_ref }),
  ...(b.upstream_images !== undefined && { upstreamImages: b.upstream_images as Record<string, string> | null }),
  ...(b.active !== undefined && { active: b.active }),
});

manageRoutes.openapi(
  createRoute({
    method: "post",
    path: "/images",
    access: operator("write"),
    tags,
    summary: "Add an image (operator)",
    request: jsonBody(ImageBody),
    responses: { 201: jsonResponse(envelope(Image), "Created"), ...commonErrors, 409: errorResponses[409] },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const image = await createImage(appCtx(c), auditActor(c), {
      id: body.id,
      name: body.name,
      os: body.os,
      cudaVersion: body.cuda_version,
      description: body.description,
      compatibleGpus: body.compatible_gpus,
      ociRef: body.oci_ref,
      upstreamImages: body.upstream_images as Record<string, string> | null | undefined,
    });
    return ok(c, Image, imageView(image), 201);
  },
);

manageRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/images/{id}",
    access: operator("write"),
    tags,
    summary: "Change or retire an image (operator)",
    request: {
      params: Id,
      ...jsonBody(
        ImageBody.omit({ id: true }).extend({ active: z.boolean() }).partial().strict().openapi("UpdateImage"),
      ),
    },
    responses: { 200: jsonResponse(envelope(Image), "Updated"), ...commonErrors },
  }),
  async (c) => {
    return ok(
      c,
      Image,
      imageView(await updateImage(appCtx(c), auditActor(c), c.req.valid("param").id, toImage(c.req.valid("json")))),
    );
  },
);
