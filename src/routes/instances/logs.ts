import { z } from "@hono/zod-openapi";
import { getInstance } from "../../domain/instances/queries.js";
import { isoToMicros, LOG_WINDOW, logsUnavailable, readInstanceLogs } from "../../domain/logs/instance-logs.js";
import { createRoute, tenant, tenantScope } from "../../http/access.js";
import { appCtx, router } from "../../http/env.js";
import { commonErrors, envelope, jsonResponse, ok } from "../../http/envelope.js";
import { isoDate, urlInt } from "../../lib/schemas.js";
import { InstanceId } from "./instances.js";

/** An instance's container output, as its node agent streamed it (docs/api.md, "Instance logs"). */
export const instanceLogRoutes = router();

const LogsQuery = z.object({
  tail: urlInt(1, LOG_WINDOW.lines)
    .default(200)
    .openapi({ description: `The last this many lines (at most ${LOG_WINDOW.lines}, the window kept)` }),
  since: isoDate().optional().openapi({
    description: "Only lines printed after this time (RFC 3339, microseconds kept): poll with the last `next_since`",
    example: "2026-12-05T21:54:45.123456Z",
  }),
});

const InstanceLogs = z
  .object({
    instance_id: z.string(),
    available: z.boolean().openapi({ description: "False where nothing streams this instance's output (see reason)" }),
    reason: z.string().nullable().openapi({ description: "Why there are no logs: an upstream cloud, a simulation" }),
    lines: z.array(
      z.object({
        at: z.string().openapi({ description: "When the container printed it (microseconds)" }),
        line: z.string(),
      }),
    ),
    next_since: z.string().nullable().openapi({ description: "Pass as `since` to get only newer lines" }),
    window: z
      .object({ lines: z.number().int(), bytes: z.number().int() })
      .openapi({ description: "What the server keeps per instance; older lines are dropped" }),
  })
  .openapi("InstanceLogs");

instanceLogRoutes.openapi(
  createRoute({
    method: "get",
    path: "/instances/{id}/logs",
    access: tenant("instances", "read"),
    tags: ["Instances"],
    summary: "The container's output (stdout and stderr), oldest first: the last lines the node agent streamed",
    request: { params: InstanceId, query: LogsQuery },
    responses: { 200: jsonResponse(envelope(InstanceLogs), "Log lines"), ...commonErrors },
  }),
  async (c) => {
    const ctx = appCtx(c);
    // Another tenant's instance is a 404 here, before any line is read.
    const row = await getInstance(ctx, tenantScope(c), c.req.valid("param").id);
    const { tail, since } = c.req.valid("query");
    const reason = logsUnavailable(row);
    const lines = await readInstanceLogs(ctx, row.id, { tail, sinceUs: since ? isoToMicros(since)! : undefined });
    return ok(c, InstanceLogs, {
      instance_id: row.id,
      available: reason === null,
      reason,
      lines,
      next_since: lines.at(-1)?.at ?? since ?? null,
      window: { lines: LOG_WINDOW.lines, bytes: LOG_WINDOW.bytes },
    });
  },
);
