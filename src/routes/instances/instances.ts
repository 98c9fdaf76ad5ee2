import { randomBytes } from "node:crypto";
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { listInstanceEvents } from "../../domain/events/list.js";
import { isOperator } from "../../domain/identity/principal.js";
import type { ContainerSettings } from "../../domain/instances/container.js";
import { createInstance } from "../../domain/instances/create.js";
import { deleteInstance, startInstance, stopInstance } from "../../domain/instances/lifecycle.js";
import { getInstance, listInstances } from "../../domain/instances/queries.js";
import { instanceStatuses } from "../../domain/instances/states.js";
import { getLaunchTemplate, withTemplate } from "../../domain/launch-templates/templates.js";
import { actingFor, createRoute, listTenant, tenant, tenantScope } from "../../http/access.js";
import { appCtx, type Env, principal, router } from "../../http/env.js";
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
import { ApiError, badRequest } from "../../lib/errors.js";
import { int32, safeName, urlInt } from "../../lib/schemas.js";
import { containerFields, envInput } from "./container-schemas.js";
import { Instance, instanceView, withDetails } from "./views.js";

/** Seed 000's instance routes: camelCase bodies and responses (snake_case spellings accepted too). */
export const instanceRoutes = router();
const tags = ["Instances"];
export const InstanceId = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "id", in: "path" } }),
});
const errors = { ...commonErrors, ...errorResponses };

const CreateInstance = z
  .object({
    name: safeName(128)
      .optional()
      .openapi({ example: "training-run-01", description: 'Default: a generated one ("gpu-3f9a1c")' }),
    planId: z.string().min(1).max(64).optional().openapi({ example: "GPU.H100.1x" }),
    plan_id: z.string().min(1).max(64).optional(),
    templateSlug: z.string().min(1).max(128).optional().openapi({ example: "pytorch-cuda" }),
    template_slug: z.string().min(1).max(128).optional(),
    sshKeyId: z.string().min(1).max(64).optional(),
    ssh_key_id: z.string().min(1).max(64).optional(),
    sshKeyIds: z.array(z.string().min(1).max(64)).max(20).optional(),
    region: z.string().min(1).max(40).optional().openapi({ description: "Default: the first region with capacity" }),
    volumeIds: z.array(z.string().min(1).max(64)).max(16).optional(),
    image: z.string().min(1).max(512).optional().openapi({
      description:
        "Your own OCI image (instead of templateSlug), from a registry the operator allows (GET /api/v1/image-policy)",
      example: "ghcr.io/org/app:1.2",
    }),
    ...containerFields,
    diskGb: z.number().int().min(1).max(100_000).optional().openapi({
      description: "Container disk (GB), at most the plan's; default the plan's",
    }),
    disk_gb: z.number().int().min(1).max(100_000).optional(),
    launchTemplateId: z.string().min(1).max(64).optional().openapi({
      description: "A saved launch template (POST /api/v1/launch-templates): its settings, overridden by this body's",
    }),
    launch_template_id: z.string().min(1).max(64).optional(),
    waitlist: z.boolean().optional().openapi({
      description:
        "Resold clouds: when every allowed offer refuses for lack of capacity, the order waits (status ordered, listed in GET /api/v1/waitlist) and launches when one has room, instead of failing",
    }),
    tenantId: int32().optional().openapi({ description: "Operators: the tenant to act for" }),
  })
  .strict()
  .openapi("CreateInstance");

/** The caller's tenant, or null for an operator, who sees every tenant's instances. */
export const actorOf = (c: Context<Env>) => (isOperator(principal(c)) ? "operator" : "user") as "operator" | "user";

instanceRoutes.openapi(
  createRoute({
    method: "post",
    path: "/instances",
    access: tenant("instances", "write", "instance_create"),
    tags,
    summary: "Create a GPU instance (planId, templateSlug, sshKeyId)",
    description: "402 below the minimum balance; 409 over quota or without capacity (with a waitlist pointer).",
    request: jsonBody(CreateInstance),
    responses: { 201: jsonResponse(envelope(Instance), "Ordered; provisioning"), ...errors },
  }),
  async (c) => {
    const ctx = appCtx(c);
    const b = c.req.valid("json");
    const tenantId = actingFor(c, b.tenantId);
    let plan = b.planId ?? b.plan_id;
    let template = b.templateSlug ?? b.template_slug;
    let container: ContainerSettings = {
      imageRef: b.image,
      env: envInput(b.env),
      command: b.command,
      diskGb: b.diskGb ?? b.disk_gb,
      ports: b.ports,
    };
    const launchTemplateId = b.launchTemplateId ?? b.launch_template_id;
    if (launchTemplateId) {
      const saved = await getLaunchTemplate(ctx, tenantId, launchTemplateId).catch((error) => {
        throw error instanceof ApiError ? badRequest(`launchTemplateId: ${error.message}`) : error;
      });
      const merged = withTemplate(saved, { instanceType: plan, templateSlug: template, container });
      plan = merged.instanceType;
      template = merged.templateSlug;
      container = merged.container;
    }
    if (!plan) throw badRequest('planId is required (e.g. "GPU.H100.1x"; see GET /api/v1/plans)');
    if (container.imageRef && template && !launchTemplateId) {
      throw badRequest("give either image (your own OCI image) or templateSlug (a catalog image), not both");
    }
    if (!template && !container.imageRef) {
      throw badRequest(
        'templateSlug is required (e.g. "pytorch-cuda"; see GET /api/v1/templates), or image for your own OCI image',
      );
    }
    const keyIds = [
      ...(b.sshKeyId ? [b.sshKeyId] : []),
      ...(b.ssh_key_id ? [b.ssh_key_id] : []),
      ...(b.sshKeyIds ?? []),
    ];
    const row = await createInstance(ctx, tenantId, {
      name: b.name ?? `gpu-${randomBytes(3).toString("hex")}`,
      instanceType: plan,
      image: template ?? container.imageRef!,
      container,
      regionId: b.region,
      sshKeyIds: keyIds,
      volumeIds: b.volumeIds,
      waitlist: b.waitlist,
      fields: {
        instanceType: "planId",
        image: "templateSlug",
        region: "region",
        sshKeyIds: "sshKeyId",
        imageRef: "image",
      },
    });
    const [details] = await withDetails(ctx, [row]);
    return ok(c, Instance, instanceView(details), 201);
  },
);

instanceRoutes.openapi(
  createRoute({
    method: "get",
    path: "/instances",
    access: tenant("instances", "read"),
    tags,
    summary: "List instances, newest first (deleted ones with include_deleted=true)",
    request: {
      query: PageQuery.extend({
        tenant_id: urlInt().optional().openapi({ description: "Operator keys: one tenant's" }),
        status: z.enum(instanceStatuses).optional(),
        include_deleted: z.enum(["true", "false"]).optional(),
      }),
    },
    responses: { 200: jsonResponse(listEnvelope(Instance), "Instances"), ...commonErrors },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const page = await listInstances(appCtx(c), listTenant(c, q.tenant_id), {
      ...q,
      includeDeleted: q.include_deleted === "true",
    });
    return okList(c, Instance, { ...page, items: (await withDetails(appCtx(c), page.items)).map(instanceView) });
  },
);

instanceRoutes.openapi(
  createRoute({
    method: "get",
    path: "/instances/{id}",
    access: tenant("instances", "read"),
    tags,
    summary: "Get an instance: status, IP and ssh command once running",
    request: { params: InstanceId },
    responses: { 200: jsonResponse(envelope(Instance), "Instance"), ...commonErrors },
  }),
  async (c) => {
    const row = await getInstance(appCtx(c), tenantScope(c), c.req.valid("param").id);
    return ok(c, Instance, instanceView((await withDetails(appCtx(c), [row]))[0]));
  },
);

const InstanceEvent = z
  .object({
    id: z.string().openapi({ example: "evt_01jd5x8k2m3n4p5q6r7s8t9v0w" }),
    type: z.string().openapi({ example: "instance.running" }),
    status: z.string().nullable().openapi({ description: "instance.* events: the status entered", example: "running" }),
    previous_status: z.string().nullable().openapi({ example: "provisioning" }),
    reason: z.string().nullable().openapi({ description: "Why it stopped, failed or was lost, where known" }),
    volume_id: z.string().nullable().openapi({ description: "volume.* events: the volume attached or detached" }),
    created_at: z.string(),
  })
  .openapi("InstanceEvent");

const str = (v: unknown) => (typeof v === "string" ? v : null);

instanceRoutes.openapi(
  createRoute({
    method: "get",
    path: "/instances/{id}/events",
    access: tenant("instances", "read"),
    tags,
    summary: "An instance's history, newest first: each status it entered (with why) and volumes attached or detached",
    request: { params: InstanceId, query: PageQuery },
    responses: { 200: jsonResponse(listEnvelope(InstanceEvent), "Events"), ...commonErrors },
  }),
  async (c) => {
    const ctx = appCtx(c);
    // Another tenant's instance is a 404 here, before any event is read.
    const row = await getInstance(ctx, tenantScope(c), c.req.valid("param").id);
    const page = await listInstanceEvents(ctx, row.tenantId, row.id, c.req.valid("query"));
    return okList(c, InstanceEvent, {
      ...page,
      items: page.items.map((e) => ({
        id: e.id,
        type: e.type,
        status: e.type.startsWith("instance.") ? str(e.data.status) : null,
        previous_status: str(e.data.previous_status),
        reason: str(e.data.reason),
        volume_id: str(e.data.volume_id),
        created_at: e.createdAt.toISOString(),
      })),
    });
  },
);

const actions = {
  start: { verb: startInstance, summary: "Start a stopped instance (quota, balance and capacity are checked again)" },
  stop: { verb: stopInstance, summary: "Stop a running instance: billing stops, GPUs are released, disk stays" },
} as const;

for (const [name, action] of Object.entries(actions)) {
  instanceRoutes.openapi(
    createRoute({
      method: "post",
      path: `/instances/{id}/${name}`,
      access: tenant("instances", "write", "instance_action"),
      tags,
      summary: action.summary,
      request: { params: InstanceId },
      responses: { 200: jsonResponse(envelope(Instance), "The instance after the action"), ...errors },
    }),
    async (c) => {
      const row = await action.verb(appCtx(c), {
        tenantId: tenantScope(c),
        instanceId: c.req.valid("param").id,
        actor: actorOf(c),
      });
      return ok(c, Instance, instanceView((await withDetails(appCtx(c), [row]))[0]), 200);
    },
  );
}

instanceRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/instances/{id}",
    access: tenant("instances", "write", "instance_action"),
    tags,
    summary: "Delete an instance (billing stops; attached volumes are detached and kept). Repeats are harmless.",
    request: { params: InstanceId },
    responses: { 200: jsonResponse(envelope(Instance), "Deleting or deleted"), ...errors },
  }),
  async (c) => {
    const row = await deleteInstance(appCtx(c), {
      tenantId: tenantScope(c),
      instanceId: c.req.valid("param").id,
      actor: actorOf(c),
    });
    return ok(c, Instance, instanceView((await withDetails(appCtx(c), [row]))[0]), 200);
  },
);
