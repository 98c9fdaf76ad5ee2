import { joinNode } from "../../domain/agent/join.js";
import { createRoute, publicAccess } from "../../http/access.js";
import { appCtx, router } from "../../http/env.js";
import { commonErrors, envelope, errorResponses, jsonBody, jsonResponse, ok } from "../../http/envelope.js";
import { JoinBody, JoinResult, storageOf } from "./schemas.js";

/** Public route: the join token in the body is the credential (the host has no key yet). */
export const joinRoutes = router();

joinRoutes.openapi(
  createRoute({
    method: "post",
    path: "/agent/join",
    access: publicAccess,
    tags: ["Node agent"],
    summary: "Register this host and its GPUs with a join token; returns the node credential once",
    request: jsonBody(JoinBody),
    responses: {
      201: jsonResponse(envelope(JoinResult), "Joined"),
      ...commonErrors,
      409: errorResponses[409],
    },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const joined = await joinNode(appCtx(c), body.token, {
      hostname: body.hostname,
      ipAddress: body.ip_address,
      cpuCores: body.cpu_cores,
      ramGb: body.ram_gb,
      agentVersion: body.agent_version,
      agentSha256: body.agent_sha256,
      facts: body.facts,
      images: body.images,
      storage: storageOf(body.storage),
      gpus: body.gpus.map((g) => ({
        index: g.index,
        uuid: g.uuid,
        model: g.model,
        vramMb: g.vram_mb,
        driverVersion: g.driver_version,
      })),
    });
    return ok(
      c,
      JoinResult,
      {
        node_id: joined.nodeId,
        cluster_id: joined.clusterId,
        credential: joined.key,
        gpus: joined.gpus,
        images: joined.images,
      },
      201,
    );
  },
);
