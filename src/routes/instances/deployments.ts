import { z } from "@hono/zod-openapi";
import { createInstance } from "../../domain/instances/create.js";
import { deleteInstance, startInstance, stopInstance } from "../../domain/instances/lifecycle.js";
import { getInstance, listInstances } from "../../domain/instances/queries.js";
import { instanceStatuses } from "../../domain/instances/states.js";
import { volumeTypes } from "../../domain/volumes/volumes.js";
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
import { actorOf, InstanceId } from "./instances.js";
import { Deployment, deploymentView, withDetails } from "./views.js";

/** Seed 001's deployments: the same instances, snake_case, cluster types and locations. */
export const deploymentRoutes = router();
const tags = ["Deployments"];
const errors = { ...commonErrors, ...errorResponses };
const ids = z.array(z.string().min(1).max(64)).max(16);

const DeployCluster = z
  .object({
    cluster_type: z.string().min(1).max(64).openapi({ example: "1H100.80S.30V" }),
    image: z.string().min(1).max(128).openapi({ example: "ubuntu-22.04-cuda-12.4-cluster" }),
    hostname: z
      .string()
      .regex(/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/, "must be a hostname: letters, digits and '-', up to 63")
      .openapi({ example: "my-training-run" }),
    ssh_key_ids: ids.min(1),
    location: z.string().min(1).max(40).optional().openapi({ example: "FIN-01" }),
    volume_ids: ids.optional().openapi({ description: "Existing volumes to attach (same location)" }),
    existing_volumes: ids.optional().openapi({ description: "Same as volume_ids" }),
    new_volumes: z
      .array(
        z
          .object({
            name: safeName(128),
            size_gb: z.number().int().min(1).max(65_536),
            type: z.enum(volumeTypes).default("nvme"),
          })
          .strict(),
      )
      .max(8)
      .optional()
      .openapi({ description: "Volumes to create in the location and attach" }),
    waitlist: z.boolean().optional().openapi({
      description:
        "Resold clouds: when every allowed offer refuses for lack of capacity, the order waits (status ordered, listed in GET /api/v1/waitlist) and launches when one has room, instead of failing",
    }),
    tenant_id: int32().optional().openapi({ description: "Operators: the tenant to act for" }),
  })
  .strict()
  .openapi("DeployCluster");

deploymentRoutes.openapi(
  createRoute({
    method: "post",
    path: "/deployments/clusters",
    access: tenant("instances", "write", "instance_create"),
    tags,
    summary: "Deploy a GPU cluster: ordered → provisioning → running",
    description: "402 below the $20 minimum; 409 over quota or without capacity (with a waitlist pointer).",
    request: jsonBody(DeployCluster),
    responses: { 201: jsonResponse(envelope(Deployment), "Ordered"), ...errors },
  }),
  async (c) => {
    const ctx = appCtx(c);
    const b = c.req.valid("json");
    const row = await createInstance(ctx, actingFor(c, b.tenant_id), {
      name: b.hostname,
      instanceType: b.cluster_type,
      image: b.image,
      regionId: b.location,
      sshKeyIds: b.ssh_key_ids,
      volumeIds: [...(b.volume_ids ?? []), ...(b.existing_volumes ?? [])],
      newVolumes: b.new_volumes?.map((v) => ({ name: v.name, sizeGb: v.size_gb, type: v.type })),
      waitlist: b.waitlist,
      fields: { instanceType: "cluster_type", image: "image", region: "location", sshKeyIds: "ssh_key_ids" },
    });
    return ok(c, Deployment, deploymentView((await withDetails(ctx, [row]))[0]), 201);
  },
);

deploymentRoutes.openapi(
  createRoute({
    method: "get",
    path: "/deployments",
    access: tenant("instances", "read"),
    tags,
    summary: "List deployments, newest first (deleted ones with include_deleted=true)",
    request: {
      query: PageQuery.extend({
        tenant_id: urlInt().optional().openapi({ description: "Operator keys: one tenant's" }),
        status: z.enum(instanceStatuses).optional(),
        include_deleted: z.enum(["true", "false"]).optional(),
      }),
    },
    responses: { 200: jsonResponse(listEnvelope(Deployment), "Deployments"), ...commonErrors },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const page = await listInstances(appCtx(c), listTenant(c, q.tenant_id), {
      ...q,
      includeDeleted: q.include_deleted === "true",
    });
    return okList(c, Deployment, { ...page, items: (await withDetails(appCtx(c), page.items)).map(deploymentView) });
  },
);

deploymentRoutes.openapi(
  createRoute({
    method: "get",
    path: "/deployments/{id}",
    access: tenant("instances", "read"),
    tags,
    summary: "Get a deployment: status, IP and ssh command once running",
    request: { params: InstanceId },
    responses: { 200: jsonResponse(envelope(Deployment), "Deployment"), ...commonErrors },
  }),
  async (c) => {
    const row = await getInstance(appCtx(c), tenantScope(c), c.req.valid("param").id);
    return ok(c, Deployment, deploymentView((await withDetails(appCtx(c), [row]))[0]));
  },
);

deploymentRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/deployments/{id}",
    access: tenant("instances", "write", "instance_action"),
    tags,
    summary: "Delete a deployment to stop billing (volumes are kept). Repeats are harmless.",
    request: { params: InstanceId },
    responses: { 200: jsonResponse(envelope(Deployment), "Deleting or deleted"), ...errors },
  }),
  async (c) => {
    const row = await deleteInstance(appCtx(c), {
      tenantId: tenantScope(c),
      instanceId: c.req.valid("param").id,
      actor: actorOf(c),
    });
    return ok(c, Deployment, deploymentView((await withDetails(appCtx(c), [row]))[0]), 200);
  },
);

for (const [name, verb] of [
  ["start", startInstance],
  ["stop", stopInstance],
] as const) {
  deploymentRoutes.openapi(
    createRoute({
      method: "post",
      path: `/deployments/{id}/${name}`,
      access: tenant("instances", "write", "instance_action"),
      tags,
      summary: name === "start" ? "Start a stopped deployment" : "Stop a running deployment (GPUs released, disk kept)",
      request: { params: InstanceId },
      responses: { 200: jsonResponse(envelope(Deployment), "The deployment after the action"), ...errors },
    }),
    async (c) => {
      const row = await verb(appCtx(c), {
        tenantId: tenantScope(c),
        instanceId: c.req.valid("param").id,
        actor: actorOf(c),
      });
      return ok(c, Deployment, deploymentView((await withDetails(appCtx(c), [row]))[0]), 200);
    },
  );
}
