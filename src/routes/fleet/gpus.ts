import { z } from "@hono/zod-openapi";
import { getGpu, listGpus, registerGpus } from "../../domain/fleet/gpus.js";
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
import { Gpu, GpuListQuery, gpuView, IntIdParam, RegisterGpusBody } from "./schemas.js";

export const gpuRoutes = router();
const tags = ["Fleet"];

gpuRoutes.openapi(
  createRoute({
    method: "post",
    path: "/gpus",
    access: operator("write"),
    tags,
    summary: "Register GPUs on a node (operator); a GPU index appears once per node",
    request: jsonBody(RegisterGpusBody),
    responses: { 201: jsonResponse(envelope(z.array(Gpu)), "Registered"), 409: errorResponses[409], ...commonErrors },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const rows = await registerGpus(
      appCtx(c),
      body.node_id,
      body.gpus.map((g) => ({ gpuIndex: g.gpu_index, model: g.model, vramMb: g.vram_mb, uuid: g.uuid })),
    );
    return ok(c, z.array(Gpu), rows.map(gpuView), 201);
  },
);

gpuRoutes.openapi(
  createRoute({
    method: "get",
    path: "/gpus",
    access: operator("read"),
    tags,
    summary: "List GPUs with their derived state and newest sample (operator)",
    request: { query: GpuListQuery },
    responses: { 200: jsonResponse(listEnvelope(Gpu), "GPUs"), ...commonErrors },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const page = await listGpus(appCtx(c), q, {
      nodeId: q.node_id,
      clusterId: q.cluster_id,
      state: q.state,
      model: q.model,
    });
    return okList(c, Gpu, { ...page, items: page.items.map(gpuView) });
  },
);

gpuRoutes.openapi(
  createRoute({
    method: "get",
    path: "/gpus/{id}",
    access: operator("read"),
    tags,
    summary: "Get a GPU (operator)",
    request: { params: IntIdParam },
    responses: { 200: jsonResponse(envelope(Gpu), "GPU"), ...commonErrors },
  }),
  async (c) => {
    return ok(c, Gpu, gpuView(await getGpu(appCtx(c), c.req.valid("param").id)));
  },
);
