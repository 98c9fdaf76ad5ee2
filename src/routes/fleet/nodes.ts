import type { Context } from "hono";
import { agentArtifact } from "../../domain/agent/artifact.js";
import { nodeImageCatalog } from "../../domain/agent/images.js";
import { requestAgentUpgrade } from "../../domain/agent/upgrade.js";
import {
  createNode,
  deleteNode,
  getNode,
  listNodes,
  type NodeInput,
  type NodeRow,
  setNodeSchedulable,
  updateNode,
} from "../../domain/fleet/nodes.js";
import { createRoute, operator } from "../../http/access.js";
import { appCtx, auditActor, type Env, router } from "../../http/env.js";
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
import { IntIdParam, Node, NodeBody, NodeListQuery, NodePatch, nodeView } from "./schemas.js";

export const nodeRoutes = router();
const tags = ["Fleet"];

const view = async (c: Context<Env>, row: NodeRow, catalog?: Awaited<ReturnType<typeof nodeImageCatalog>>) =>
  nodeView(row, agentArtifact(appCtx(c).config).version(), catalog ?? (await nodeImageCatalog(appCtx(c))));

const toInput = (body: Partial<typeof NodeBody._output>): Partial<NodeInput> => ({
  ...(body.cluster_id !== undefined && { clusterId: body.cluster_id }),
  ...(body.hostname !== undefined && { hostname: body.hostname }),
  ...(body.ip_address !== undefined && { ipAddress: body.ip_address }),
  ...(body.total_gpus !== undefined && { totalGpus: body.total_gpus }),
  ...(body.cpu_cores !== undefined && { cpuCores: body.cpu_cores }),
  ...(body.ram_gb !== undefined && { ramGb: body.ram_gb }),
});

nodeRoutes.openapi(
  createRoute({
    method: "post",
    path: "/nodes",
    access: operator("write"),
    tags,
    summary: "Register a node in a cluster (operator); hostnames are unique",
    request: jsonBody(NodeBody),
    responses: { 201: jsonResponse(envelope(Node), "Created"), 409: errorResponses[409], ...commonErrors },
  }),
  async (c) => {
    const row = await createNode(appCtx(c), auditActor(c), toInput(c.req.valid("json")) as NodeInput);
    return ok(c, Node, await view(c, row), 201);
  },
);

nodeRoutes.openapi(
  createRoute({
    method: "get",
    path: "/nodes",
    access: operator("read"),
    tags,
    summary: "List nodes, optionally by cluster or status (operator)",
    request: { query: NodeListQuery },
    responses: { 200: jsonResponse(listEnvelope(Node), "Nodes"), ...commonErrors },
  }),
  async (c) => {
    const query = c.req.valid("query");
    const page = await listNodes(appCtx(c), query, { clusterId: query.cluster_id, status: query.status });
    const catalog = await nodeImageCatalog(appCtx(c));
    return okList(c, Node, { ...page, items: await Promise.all(page.items.map((n) => view(c, n, catalog))) });
  },
);

nodeRoutes.openapi(
  createRoute({
    method: "get",
    path: "/nodes/{id}",
    access: operator("read"),
    tags,
    summary: "Get a node (operator)",
    request: { params: IntIdParam },
    responses: { 200: jsonResponse(envelope(Node), "Node"), ...commonErrors },
  }),
  async (c) => {
    return ok(c, Node, await view(c, await getNode(appCtx(c), c.req.valid("param").id)));
  },
);

nodeRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/nodes/{id}",
    access: operator("write"),
    tags,
    summary: "Update a node's cluster, hostname, address or capacity (operator)",
    request: { params: IntIdParam, ...jsonBody(NodePatch) },
    responses: { 200: jsonResponse(envelope(Node), "Updated"), 409: errorResponses[409], ...commonErrors },
  }),
  async (c) => {
    const row = await updateNode(appCtx(c), auditActor(c), c.req.valid("param").id, toInput(c.req.valid("json")));
    return ok(c, Node, await view(c, row), 200);
  },
);

nodeRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/nodes/{id}",
    access: operator("write"),
    tags,
    summary: "Delete a node and its GPUs (409 while any GPU is allocated)",
    request: { params: IntIdParam },
    responses: { 200: jsonResponse(envelope(Node), "Deleted"), 409: errorResponses[409], ...commonErrors },
  }),
  async (c) => {
    return ok(c, Node, await view(c, await deleteNode(appCtx(c), auditActor(c), c.req.valid("param").id)), 200);
  },
);

const actions = {
  drain: "Drain a node: no new work, and its work is moved off",
  cordon: "Cordon a node: no new work; running work stays",
  uncordon: "Return a cordoned or draining node to service",
} as const;

for (const [action, summary] of Object.entries(actions) as [keyof typeof actions, string][]) {
  nodeRoutes.openapi(
    createRoute({
      method: "post",
      path: `/nodes/{id}/${action}`,
      access: operator("write"),
      tags,
      summary,
      request: { params: IntIdParam },
      responses: { 200: jsonResponse(envelope(Node), "Node"), 409: errorResponses[409], ...commonErrors },
    }),
    async (c) => {
      return ok(
        c,
        Node,
        await view(c, await setNodeSchedulable(appCtx(c), auditActor(c), c.req.valid("param").id, action)),
        200,
      );
    },
  );
}

nodeRoutes.openapi(
  createRoute({
    method: "post",
    path: "/nodes/{id}/upgrade",
    access: operator("write"),
    tags,
    summary:
      "Upgrade the node's agent to the server's build (GET /agent/version): it fetches, verifies and restarts into it between work; containers and jobs keep running",
    request: { params: IntIdParam },
    responses: { 202: jsonResponse(envelope(Node), "Requested"), 409: errorResponses[409], ...commonErrors },
  }),
  async (c) => {
    return ok(
      c,
      Node,
      await view(c, await requestAgentUpgrade(appCtx(c), auditActor(c), c.req.valid("param").id)),
      202,
    );
  },
);
