import { createCluster, deleteCluster, getCluster, listClusters, updateCluster } from "../../domain/fleet/clusters.js";
import { createRoute, operator } from "../../http/access.js";
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
import { Cluster, ClusterBody, ClusterPatch, clusterView, IntIdParam } from "./schemas.js";

export const clusterRoutes = router();
const tags = ["Fleet"];

clusterRoutes.openapi(
  createRoute({
    method: "post",
    path: "/clusters",
    access: operator("write"),
    tags,
    summary: "Create a cluster (operator)",
    request: jsonBody(ClusterBody),
    responses: { 201: jsonResponse(envelope(Cluster), "Created"), 409: errorResponses[409], ...commonErrors },
  }),
  async (c) => {
    const body = c.req.valid("json");
    return ok(c, Cluster, clusterView(await createCluster(appCtx(c), body)), 201);
  },
);

clusterRoutes.openapi(
  createRoute({
    method: "get",
    path: "/clusters",
    access: operator("read"),
    tags,
    summary: "List clusters with their node and GPU counts (operator)",
    request: { query: PageQuery },
    responses: { 200: jsonResponse(listEnvelope(Cluster), "Clusters"), ...commonErrors },
  }),
  async (c) => {
    const page = await listClusters(appCtx(c), c.req.valid("query"));
    return okList(c, Cluster, { ...page, items: page.items.map(clusterView) });
  },
);

clusterRoutes.openapi(
  createRoute({
    method: "get",
    path: "/clusters/{id}",
    access: operator("read"),
    tags,
    summary: "Get a cluster (operator)",
    request: { params: IntIdParam },
    responses: { 200: jsonResponse(envelope(Cluster), "Cluster"), ...commonErrors },
  }),
  async (c) => {
    return ok(c, Cluster, clusterView(await getCluster(appCtx(c), c.req.valid("param").id)));
  },
);

clusterRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/clusters/{id}",
    access: operator("write"),
    tags,
    summary: "Rename a cluster or change its region (operator)",
    request: { params: IntIdParam, ...jsonBody(ClusterPatch) },
    responses: { 200: jsonResponse(envelope(Cluster), "Updated"), 409: errorResponses[409], ...commonErrors },
  }),
  async (c) => {
    const row = await updateCluster(appCtx(c), c.req.valid("param").id, c.req.valid("json"));
    return ok(c, Cluster, clusterView(row), 200);
  },
);

clusterRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/clusters/{id}",
    access: operator("write"),
    tags,
    summary: "Delete an empty cluster (409 while it has nodes)",
    request: { params: IntIdParam },
    responses: { 200: jsonResponse(envelope(Cluster), "Deleted"), 409: errorResponses[409], ...commonErrors },
  }),
  async (c) => {
    return ok(c, Cluster, clusterView(await deleteCluster(appCtx(c), c.req.valid("param").id)), 200);
  },
);
