import { z } from "@hono/zod-openapi";
import { instanceOnNode } from "../../domain/agent/assignments.js";
import { ingestInstanceLogs } from "../../domain/logs/instance-logs.js";
import { createRoute, nodeAgent } from "../../http/access.js";
import { appCtx, principal, router } from "../../http/env.js";
import { commonErrors, envelope, jsonBody, jsonResponse, ok } from "../../http/envelope.js";
import { notFound } from "../../lib/errors.js";
import { isoDate } from "../../lib/schemas.js";
import { callerNode, InstanceId } from "./schemas.js";

/** The node agent streams each instance container's output here (packages/agent/src/logs.ts). */
export const agentLogRoutes = router();

const LogBatch = z
  .object({
    lines: z
      .array(
        z.object({
          at: isoDate().openapi({ description: "The runtime's timestamp of the line (RFC 3339, up to nanoseconds)" }),
          seq: z
            .number()
            .int()
            .min(-1)
            .max(1_000_000)
            .openapi({ description: "Its place among lines of the same microsecond; -1 for a note of the agent's" }),
          line: z.string().max(16_384).openapi({ description: "Longer than 4 KiB: cut, saying so" }),
        }),
      )
      .max(1000),
  })
  .openapi("AgentLogBatch");

const LogBatchResult = z.object({ stored: z.number().int() }).openapi("AgentLogBatchResult");

agentLogRoutes.openapi(
  createRoute({
    method: "post",
    path: "/agent/instances/{id}/logs",
    access: nodeAgent,
    tags: ["Node agent"],
    summary:
      "The agent sends lines an instance's container printed; a batch sent again stores nothing twice, and the " +
      "server keeps a window of the last lines per instance",
    request: { params: InstanceId, ...jsonBody(LogBatch) },
    responses: { 200: jsonResponse(envelope(LogBatchResult), "Stored (new lines counted)"), ...commonErrors },
  }),
  async (c) => {
    const ctx = appCtx(c);
    const id = c.req.valid("param").id;
    if (!(await instanceOnNode(ctx, callerNode(principal(c)), id))) throw notFound("instance");
    const stored = await ingestInstanceLogs(ctx, id, c.req.valid("json").lines);
    return ok(c, LogBatchResult, { stored }, 200);
  },
);
