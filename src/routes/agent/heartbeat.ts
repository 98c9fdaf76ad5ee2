import { recordHeartbeat } from "../../domain/agent/heartbeat.js";
import { createRoute, nodeAgent } from "../../http/access.js";
import { appCtx, principal, router } from "../../http/env.js";
import { commonErrors, envelope, jsonBody, jsonResponse, ok } from "../../http/envelope.js";
import { callerNode, HeartbeatBody, HeartbeatResult, storageOf } from "./schemas.js";

export const heartbeatRoutes = router();

heartbeatRoutes.openapi(
  createRoute({
    method: "post",
    path: "/agent/heartbeat",
    access: nodeAgent,
    tags: ["Node agent"],
    summary: "The node is alive; per-GPU health as the agent judged it (node credential)",
    request: jsonBody(HeartbeatBody),
    responses: { 200: jsonResponse(envelope(HeartbeatResult), "Recorded"), ...commonErrors },
  }),
  async (c) => {
    const nodeId = callerNode(principal(c));
    const body = c.req.valid("json");
    const ctx = appCtx(c);
    const result = await recordHeartbeat(ctx, nodeId, {
      agentVersion: body.agent_version,
      agentSha256: body.agent_sha256,
      gpus: body.gpus,
      gpuError: body.gpu_error,
      images: body.images,
      storage: body.storage === undefined ? undefined : storageOf(body.storage),
    });
    // The agent fetches from the address it reached the server at (GPUPLANE_PUBLIC_URL may be a proxy's).
    const upgrade = result.upgrade
      ? { ...result.upgrade, url: `${new URL(c.req.url).origin}/agent/gpuplane-agent.mjs` }
      : null;
    return ok(c, HeartbeatResult, {
      node_id: nodeId,
      status: result.status,
      gpus: result.gpus,
      upgrade,
      images: result.images,
    });
  },
);
