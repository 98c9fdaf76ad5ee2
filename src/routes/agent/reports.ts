import { z } from "@hono/zod-openapi";
import { instanceOnNode } from "../../domain/agent/assignments.js";
import { confirmInstanceStopped, markInstanceFailed, markInstanceRunning } from "../../domain/instances/lifecycle.js";
import { reportJobStatus } from "../../domain/jobs/lifecycle.js";
import { createRoute, nodeAgent } from "../../http/access.js";
import { appCtx, principal, router } from "../../http/env.js";
import { commonErrors, envelope, errorResponses, jsonBody, jsonResponse, ok } from "../../http/envelope.js";
import { notFound } from "../../lib/errors.js";
import { INT4_MAX, int32, isoDate, urlInt } from "../../lib/schemas.js";
import { callerNode, InstanceId } from "./schemas.js";

export const reportRoutes = router();
const tags = ["Node agent"];

const JobId = z.object({
  id: urlInt().openapi({ param: { name: "id", in: "path" } }),
});

const JobReport = z
  .object({
    /** "killed": the agent stopped it (drain, or it was no longer assigned); recorded as failed. */
    status: z.enum(["running", "completed", "failed", "killed"]),
    exit_code: int32(-INT4_MAX - 1)
      .nullable()
      .optional(),
    signal: z.string().max(32).nullable().optional(),
    output_tail: z.string().max(65_536).nullable().optional(),
    pid: int32(0).optional(),
    finished_at: isoDate()
      .optional()
      .openapi({ description: "When the agent saw the job end; billing ends then (never after this report)" }),
  })
  .openapi("AgentJobReport");

const JobReportResult = z.object({ id: z.number().int(), status: z.string() }).openapi("AgentJobReportResult");

reportRoutes.openapi(
  createRoute({
    method: "post",
    path: "/agent/jobs/{id}/status",
    access: nodeAgent,
    tags,
    summary: "The agent reports a job on its node: running, or its exit status and the tail of its output",
    request: { params: JobId, ...jsonBody(JobReport) },
    responses: { 200: jsonResponse(envelope(JobReportResult), "Recorded"), ...commonErrors, 409: errorResponses[409] },
  }),
  async (c) => {
    const nodeId = callerNode(principal(c));
    const body = c.req.valid("json");
    const killed = body.status === "killed";
    const tail = killed
      ? `${body.output_tail ?? ""}\n[gpuplane] stopped by the node agent (${body.signal ?? "SIGTERM"})`
      : body.output_tail;
    const row = await reportJobStatus(appCtx(c), c.req.valid("param").id, nodeId, {
      status: body.status === "killed" ? "failed" : body.status,
      exitCode: body.exit_code,
      outputTail: tail,
      endedAt: body.finished_at === undefined ? undefined : new Date(body.finished_at),
    });
    return ok(c, JobReportResult, { id: row.id, status: row.status }, 200);
  },
);

const InstanceReady = z
  .object({
    ip_address: z.string().min(1).max(64),
    ssh_user: z.string().min(1).max(64),
    ssh_port: z.number().int().min(1).max(65535).default(22),
    ports: z
      .array(
        z.object({
          port: z.number().int().min(1).max(65535),
          protocol: z.enum(["http", "tcp"]),
          host_port: z.number().int().min(1).max(65535),
        }),
      )
      .max(64)
      .optional()
      .openapi({ description: "Where each declared port is published on the node" }),
  })
  .openapi("AgentInstanceReady");

const InstanceReadyResult = z.object({ id: z.string(), status: z.string() }).openapi("AgentInstanceReadyResult");

reportRoutes.openapi(
  createRoute({
    method: "post",
    path: "/agent/instances/{id}/ready",
    access: nodeAgent,
    tags,
    summary: "The agent installed the tenant's SSH keys: the instance is running at this address",
    request: { params: InstanceId, ...jsonBody(InstanceReady) },
    responses: {
      200: jsonResponse(envelope(InstanceReadyResult), "Running"),
      ...commonErrors,
      409: errorResponses[409],
    },
  }),
  async (c) => {
    const ctx = appCtx(c);
    const nodeId = callerNode(principal(c));
    const id = c.req.valid("param").id;
    if (!(await instanceOnNode(ctx, nodeId, id))) throw notFound("instance");
    const body = c.req.valid("json");
    const row = await markInstanceRunning(ctx, id, {
      ipAddress: body.ip_address,
      sshUser: body.ssh_user,
      sshPort: body.ssh_port,
      ...(body.ports
        ? {
            portMappings: body.ports.map((p) => ({
              port: p.port,
              protocol: p.protocol,
              host: body.ip_address,
              hostPort: p.host_port,
            })),
          }
        : {}),
    });
    return ok(c, InstanceReadyResult, { id: row.id, status: row.status }, 200);
  },
);

const InstanceFailed = z
  .object({ reason: z.string().min(1).max(2000).openapi({ description: "The container runtime's own message" }) })
  .openapi("AgentInstanceFailed");

reportRoutes.openapi(
  createRoute({
    method: "post",
    path: "/agent/instances/{id}/failed",
    access: nodeAgent,
    tags,
    summary: "The agent could not start the instance's container: it fails with the runtime's message, unbilled",
    request: { params: InstanceId, ...jsonBody(InstanceFailed) },
    responses: { 200: jsonResponse(envelope(InstanceReadyResult), "Failed"), ...commonErrors },
  }),
  async (c) => {
    const ctx = appCtx(c);
    const id = c.req.valid("param").id;
    if (!(await instanceOnNode(ctx, callerNode(principal(c)), id))) throw notFound("instance");
    const row = await markInstanceFailed(ctx, id, c.req.valid("json").reason);
    return ok(c, InstanceReadyResult, { id: row.id, status: row.status }, 200);
  },
);

const InstanceStopped = z
  .object({
    at: isoDate()
      .optional()
      .openapi({ description: "When the agent saw the container stop; billing ends then (never after this report)" }),
  })
  .openapi("AgentInstanceStopped");

for (const [what, summary] of [
  ["stopped", "The agent stopped the instance's container: a stopping instance is stopped, billed until `at`"],
  ["removed", "The agent removed the instance's container: a stopping or deleting one ends, billed until `at`"],
] as const) {
  reportRoutes.openapi(
    createRoute({
      method: "post",
      path: `/agent/instances/{id}/${what}`,
      access: nodeAgent,
      tags,
      summary,
      request: { params: InstanceId, ...jsonBody(InstanceStopped) },
      responses: { 200: jsonResponse(envelope(InstanceReadyResult), "Recorded"), ...commonErrors },
    }),
    async (c) => {
      const ctx = appCtx(c);
      const id = c.req.valid("param").id;
      if (!(await instanceOnNode(ctx, callerNode(principal(c)), id))) throw notFound("instance");
      const at = c.req.valid("json").at;
      const row = await confirmInstanceStopped(ctx, id, {
        removed: what === "removed",
        at: at === undefined ? undefined : new Date(at),
      });
      return ok(c, InstanceReadyResult, { id: row.id, status: row.status }, 200);
    },
  );
}

const Orphans = z
  .object({
    containers: z
      .array(
        z.object({
          name: z.string().max(200),
          kind: z.string().max(20),
          id: z.string().max(64),
          state: z.string().max(40),
        }),
      )
      .max(1000),
  })
  .openapi("AgentOrphans");

reportRoutes.openapi(
  createRoute({
    method: "post",
    path: "/agent/orphans",
    access: nodeAgent,
    tags,
    summary: "The agent found containers of work the server no longer knows; it removes them after this report",
    request: jsonBody(Orphans),
    responses: { 200: jsonResponse(envelope(z.object({ count: z.number().int() })), "Logged"), ...commonErrors },
  }),
  async (c) => {
    const nodeId = callerNode(principal(c));
    const { containers } = c.req.valid("json");
    appCtx(c).log.warn({ node_id: nodeId, containers }, "node agent removes orphan containers");
    return ok(c, z.object({ count: z.number().int() }), { count: containers.length }, 200);
  },
);
