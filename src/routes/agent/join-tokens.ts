import { z } from "@hono/zod-openapi";
import { createJoinToken } from "../../domain/agent/join.js";
import { createRoute, operator } from "../../http/access.js";
import { loopbackWarning, publicUrl } from "../../http/agent-files.js";
import { appCtx, router } from "../../http/env.js";
import { commonErrors, envelope, jsonBody, jsonResponse, ok } from "../../http/envelope.js";
import { urlInt } from "../../lib/schemas.js";
import { CreateJoinTokenBody, JoinToken } from "./schemas.js";

export const joinTokenRoutes = router();

const ClusterId = z.object({
  id: urlInt().openapi({ param: { name: "id", in: "path" } }),
});

joinTokenRoutes.openapi(
  createRoute({
    method: "post",
    path: "/clusters/{id}/join-tokens",
    access: operator("write"),
    tags: ["Node agent"],
    summary: "Create a single-use token a GPU host joins the cluster with (`gpuplane agent --token`); shown once",
    request: { params: ClusterId, ...jsonBody(CreateJoinTokenBody, false) },
    responses: { 201: jsonResponse(envelope(JoinToken), "Created"), ...commonErrors },
  }),
  async (c) => {
    const ctx = appCtx(c);
    const input: z.infer<typeof CreateJoinTokenBody> = c.req.valid("json") ?? {};
    const created = await createJoinToken(ctx, {
      clusterId: c.req.valid("param").id,
      nodeId: input.node_id,
      ttlSeconds: input.ttl_seconds,
    });
    const server = publicUrl(ctx, c.req.url);
    return ok(
      c,
      JoinToken,
      {
        id: created.id,
        token: created.token,
        cluster_id: created.clusterId,
        node_id: created.nodeId,
        expires_at: created.expiresAt.toISOString(),
        // install.sh (served with this address filled in) installs the single-file agent as a service: nothing
        // but Node on the host, no checkout, no npm install.
        join_command: `curl -fsSL ${server}/agent/install.sh | sudo sh -s -- --token ${created.token}`,
        join_command_warning: loopbackWarning(ctx, server),
      },
      201,
    );
  },
);
