import { waitForAssignments } from "../../domain/agent/assignments.js";
import { createRoute, nodeAgent } from "../../http/access.js";
import { appCtx, principal, router } from "../../http/env.js";
import { commonErrors, envelope, jsonResponse, ok } from "../../http/envelope.js";
import { Assignments, AssignmentsQuery, callerNode } from "./schemas.js";

export const assignmentRoutes = router();

assignmentRoutes.openapi(
  createRoute({
    method: "get",
    path: "/agent/assignments",
    access: nodeAgent,
    tags: ["Node agent"],
    summary:
      "Jobs and instances this node should run. Long-poll: with `version` and `wait`, answers when they change " +
      "(or after `wait` seconds with the same version)",
    request: { query: AssignmentsQuery },
    responses: { 200: jsonResponse(envelope(Assignments), "Assignments"), ...commonErrors },
  }),
  async (c) => {
    const nodeId = callerNode(principal(c));
    const query = c.req.valid("query");
    const result = await waitForAssignments(appCtx(c), nodeId, query.version, query.wait, c.req.raw.signal);
    return ok(c, Assignments, result);
  },
);
