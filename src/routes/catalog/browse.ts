import { z } from "@hono/zod-openapi";
import { listImages, resolveImage } from "../../domain/catalog/images.js";
import { listOffers } from "../../domain/catalog/offers.js";
import { listRegions } from "../../domain/catalog/regions.js";
import { listInstanceTypes, resolveInstanceType } from "../../domain/catalog/types.js";
import { createRoute, publicAccess, tenant } from "../../http/access.js";
import { appCtx, principal, router } from "../../http/env.js";
import { commonErrors, envelope, jsonResponse, ok } from "../../http/envelope.js";
import { notFound } from "../../lib/errors.js";
import {
  Image,
  InstanceTypeSchema,
  imageView,
  instanceTypeView,
  OfferSchema,
  offerView,
  Plan,
  planView,
  Region,
  regionView,
} from "./schemas.js";

/** The public catalog: regions, plans (seed 000), offers (seed 001), images and templates. No key needed. */
export const browseRoutes = router();
const tags = ["Catalog"];
const list = <T extends z.ZodType>(item: T) => z.object({ code: z.literal("OK"), data: z.array(item) });
const listOf = (c: any, schema: z.ZodType, items: unknown[]) =>
  c.json({ code: "OK" as const, data: items.map((i) => schema.parse(i)) }, 200);
const OfferQuery = z.object({
  gpu_model: z.string().max(40).optional().openapi({ example: "H100" }),
  region: z.string().max(40).optional().openapi({ example: "FIN-01" }),
  location: z.string().max(40).optional().openapi({ description: "Same as region (seed 001's word)" }),
  available: z.enum(["true", "false"]).optional().openapi({ description: "true: only offers with capacity now" }),
});
const Slug = z.object({
  id: z
    .string()
    .min(1)
    .max(128)
    .openapi({ param: { name: "id", in: "path" } }),
});

browseRoutes.openapi(
  createRoute({
    method: "get",
    path: "/regions",
    access: publicAccess,
    tags,
    summary: "Datacenter regions",
    responses: { 200: jsonResponse(list(Region), "Regions") },
  }),
  async (c) => listOf(c, Region, (await listRegions(appCtx(c))).map(regionView)),
);

browseRoutes.openapi(
  createRoute({
    method: "get",
    path: "/plans",
    access: publicAccess,
    tags,
    summary: "GPU plans (seed 000): one per instance type, with live availability across regions",
    request: { query: OfferQuery.pick({ gpu_model: true, region: true }) },
    responses: { 200: jsonResponse(list(Plan), "Plans") },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const offers = await listOffers(appCtx(c), { gpuModel: q.gpu_model, regionId: q.region });
    return listOf(c, Plan, offers.map(planView));
  },
);

for (const path of ["/gpus/available", "/offers"]) {
  browseRoutes.openapi(
    createRoute({
      method: "get",
      path,
      access: publicAccess,
      tags,
      summary: "GPU offers (seed 001): specs, price and availability per region, computed from live capacity",
      request: { query: OfferQuery },
      responses: { 200: jsonResponse(list(OfferSchema), "Offers") },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const offers = await listOffers(appCtx(c), {
        gpuModel: q.gpu_model,
        regionId: q.region ?? q.location,
        availableOnly: q.available === "true",
      });
      return listOf(c, OfferSchema, offers.map(offerView));
    },
  );
}

for (const path of ["/images", "/templates"]) {
  browseRoutes.openapi(
    createRoute({
      method: "get",
      path,
      access: publicAccess,
      tags,
      summary:
        path === "/images" ? "OS images with CUDA (seed 001)" : "Templates (seed 000's name for images, by slug)",
      request: { query: z.object({ gpu_model: z.string().max(40).optional().openapi({ example: "H100" }) }) },
      responses: { 200: jsonResponse(list(Image), "Images") },
    }),
    async (c) =>
      listOf(c, Image, (await listImages(appCtx(c), { gpuModel: c.req.valid("query").gpu_model })).map(imageView)),
  );
  browseRoutes.openapi(
    createRoute({
      method: "get",
      path: `${path}/{id}`,
      access: publicAccess,
      tags,
      summary: "One image by slug",
      request: { params: Slug },
      responses: { 200: jsonResponse(envelope(Image), "Image"), 404: commonErrors[404] },
    }),
    async (c) => {
      const image = await resolveImage(appCtx(c).db, c.req.valid("param").id).catch(() => {
        throw notFound("image");
      });
      return ok(c, Image, imageView(image), 200);
    },
  );
}

browseRoutes.openapi(
  createRoute({
    method: "get",
    path: "/instance-types",
    access: tenant("catalog", "read"),
    tags,
    summary: "Instance types with all their ids (plan id, cluster type); operators also see retired ones",
    request: { query: z.object({ include_inactive: z.enum(["true", "false"]).optional() }) },
    responses: { 200: jsonResponse(list(InstanceTypeSchema), "Instance types"), ...commonErrors },
  }),
  async (c) => {
    const caller = principal(c);
    const includeInactive = caller.tenantId === null && c.req.valid("query").include_inactive === "true";
    const types = await listInstanceTypes(appCtx(c), { includeInactive });
    return listOf(c, InstanceTypeSchema, types.map(instanceTypeView));
  },
);

browseRoutes.openapi(
  createRoute({
    method: "get",
    path: "/instance-types/{id}",
    access: tenant("catalog", "read"),
    tags,
    summary: "One instance type by any of its ids",
    request: { params: Slug },
    responses: { 200: jsonResponse(envelope(InstanceTypeSchema), "Instance type"), ...commonErrors },
  }),
  async (c) => {
    const type = await resolveInstanceType(appCtx(c), c.req.valid("param").id).catch(() => {
      throw notFound("instance type");
    });
    return ok(c, InstanceTypeSchema, instanceTypeView(type));
  },
);
