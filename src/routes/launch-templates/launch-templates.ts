import { z } from "@hono/zod-openapi";
import { envView } from "../../domain/instances/container.js";
import {
  createLaunchTemplate,
  deleteLaunchTemplate,
  getLaunchTemplate,
  type LaunchTemplateRow,
  listLaunchTemplates,
  updateLaunchTemplate,
} from "../../domain/launch-templates/templates.js";
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
import { int32, safeName, urlInt } from "../../lib/schemas.js";
import { containerFields, EnvVar, PortInput } from "../instances/container-schemas.js";

export const launchTemplateRoutes = router();
const tags = ["Launch templates"];

export const LaunchTemplate = z
  .object({
    id: z.string().openapi({ example: "ltpl_01jd5x8k2m3n4p5q6r7s8t9v0w" }),
    name: z.string(),
    image: z
      .string()
      .nullable()
      .openapi({ description: "Your own OCI image reference", example: "ghcr.io/org/app:1.2" }),
    template_slug: z.string().nullable().openapi({ description: "Or a catalog image", example: "pytorch-cuda" }),
    instance_type: z.string().nullable().openapi({ example: "GPU.H100.1x" }),
    env: z.array(EnvVar),
    command: z.array(z.string()).nullable(),
    disk_gb: z.number().int().nullable(),
    ports: z.array(PortInput.extend({ protocol: z.enum(["http", "tcp"]) })),
    tenant_id: z.number().int(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("LaunchTemplate");

const view = (t: LaunchTemplateRow) => ({
  id: t.id,
  name: t.name,
  image: t.image,
  template_slug: t.templateSlug,
  instance_type: t.instanceType,
  env: envView(t.env),
  command: t.command,
  disk_gb: t.diskGb,
  ports: t.ports,
  tenant_id: t.tenantId,
  created_at: t.createdAt.toISOString(),
  updated_at: t.updatedAt.toISOString(),
});

const fields = {
  image: z.string().min(1).max(512).nullable().optional().openapi({ example: "ghcr.io/org/app:1.2" }),
  template_slug: z.string().min(1).max(128).nullable().optional(),
  instance_type: z.string().min(1).max(64).nullable().optional().openapi({ example: "GPU.H100.1x" }),
  ...containerFields,
  disk_gb: z.number().int().min(1).max(100_000).nullable().optional(),
};
const CreateLaunchTemplate = z
  .object({
    name: safeName(128).openapi({ example: "jupyter" }),
    ...fields,
    tenant_id: int32().optional().openapi({ description: "Operators: the tenant to act for" }),
  })
  .strict()
  .openapi("CreateLaunchTemplate");
const UpdateLaunchTemplate = z
  .object({ name: safeName(128).optional(), ...fields })
  .strict()
  .openapi("UpdateLaunchTemplate");

const input = (b: z.infer<typeof UpdateLaunchTemplate>) => ({
  name: b.name,
  image: b.image,
  templateSlug: b.template_slug,
  instanceType: b.instance_type,
  env: b.env,
  command: b.command,
  diskGb: b.disk_gb,
  ports: b.ports,
});

const Id = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "id", in: "path" } }),
});

launchTemplateRoutes.openapi(
  createRoute({
    method: "post",
    path: "/launch-templates",
    access: tenant("instances", "write", "write"),
    tags,
    summary: "Save launch settings (own image or catalog image, env, command, disk, ports) to reuse",
    description: "Launch from it with launchTemplateId on POST /api/v1/instances. Secret env values are write-only.",
    request: jsonBody(CreateLaunchTemplate),
    responses: { 201: jsonResponse(envelope(LaunchTemplate), "Created"), ...commonErrors, 409: errorResponses[409] },
  }),
  async (c) => {
    const b = c.req.valid("json");
    const row = await createLaunchTemplate(appCtx(c), actingFor(c, b.tenant_id), { ...input(b), name: b.name });
    return ok(c, LaunchTemplate, view(row), 201);
  },
);

launchTemplateRoutes.openapi(
  createRoute({
    method: "get",
    path: "/launch-templates",
    access: tenant("instances", "read"),
    tags,
    summary: "List your launch templates, newest first",
    request: { query: PageQuery.extend({ tenant_id: urlInt().optional() }) },
    responses: { 200: jsonResponse(listEnvelope(LaunchTemplate), "Launch templates"), ...commonErrors },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const page = await listLaunchTemplates(appCtx(c), listTenant(c, q.tenant_id), q);
    return okList(c, LaunchTemplate, { ...page, items: page.items.map(view) });
  },
);

launchTemplateRoutes.openapi(
  createRoute({
    method: "get",
    path: "/launch-templates/{id}",
    access: tenant("instances", "read"),
    tags,
    summary: "Get a launch template",
    request: { params: Id },
    responses: { 200: jsonResponse(envelope(LaunchTemplate), "Launch template"), ...commonErrors },
  }),
  async (c) => ok(c, LaunchTemplate, view(await getLaunchTemplate(appCtx(c), tenantScope(c), c.req.valid("param").id))),
);

launchTemplateRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/launch-templates/{id}",
    access: tenant("instances", "write", "write"),
    tags,
    summary: "Change a launch template (env replaces the list; a secret sent without value keeps its stored one)",
    request: { params: Id, ...jsonBody(UpdateLaunchTemplate) },
    responses: { 200: jsonResponse(envelope(LaunchTemplate), "Updated"), ...commonErrors, 409: errorResponses[409] },
  }),
  async (c) => {
    const row = await updateLaunchTemplate(
      appCtx(c),
      tenantScope(c),
      c.req.valid("param").id,
      input(c.req.valid("json")),
    );
    return ok(c, LaunchTemplate, view(row), 200);
  },
);

launchTemplateRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/launch-templates/{id}",
    access: tenant("instances", "write", "write"),
    tags,
    summary: "Delete a launch template (instances launched from it are not touched)",
    request: { params: Id },
    responses: { 200: jsonResponse(envelope(LaunchTemplate), "Deleted"), ...commonErrors },
  }),
  async (c) =>
    ok(c, LaunchTemplate, view(await deleteLaunchTemplate(appCtx(c), tenantScope(c), c.req.valid("param").id))),
);

const ImagePolicy = z
  .object({
    allowed_registries: z.array(z.string()).openapi({ example: ["docker.io", "ghcr.io", "nvcr.io", "quay.io"] }),
    max_image_gb: z.number().nullable().openapi({ description: "Largest image a node runs (null: no limit)" }),
  })
  .openapi("ImagePolicy");

launchTemplateRoutes.openapi(
  createRoute({
    method: "get",
    path: "/image-policy",
    access: tenant("instances", "read"),
    tags,
    summary: "Which own images this cloud runs: allowed registries and the size limit (GPUPLANE_IMAGE_*)",
    responses: { 200: jsonResponse(envelope(ImagePolicy), "Policy"), ...commonErrors },
  }),
  async (c) => {
    const config = appCtx(c).config;
    return ok(c, ImagePolicy, {
      allowed_registries: config.imageRegistries,
      max_image_gb: config.imageMaxGb || null,
    });
  },
);
