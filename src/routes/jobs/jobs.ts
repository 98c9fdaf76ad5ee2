import { getJob, listJobs, submitJob } from "../../domain/jobs/jobs.js";
import { cancelJob, setJobStatus } from "../../domain/jobs/lifecycle.js";
import { createRoute, listTenant, tenant, tenantScope } from "../../http/access.js";
import { appCtx, principal, router } from "../../http/env.js";
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
import { badRequest } from "../../lib/errors.js";
import { IdParam } from "../identity/schemas.js";
import { Job, JobListQuery, jobView, StatusBody, SubmitJobBody } from "./schemas.js";

export const jobRoutes = router();
const tags = ["Jobs"];

jobRoutes.openapi(
  createRoute({
    method: "post",
    path: "/jobs",
    access: tenant("jobs", "write"),
    tags,
    summary: "Submit a job; the scheduler places it by priority on one node, within the tenant's GPU quota",
    request: jsonBody(SubmitJobBody),
    responses: {
      201: jsonResponse(envelope(Job), "Queued"),
      ...commonErrors,
      409: errorResponses[409],
    },
  }),
  async (c) => {
    const caller = principal(c);
    const body = c.req.valid("json");
    // An operator may submit for a tenant or for none (not billed, no quota); a tenant key submits for itself.
    const tenantId = listTenant(c, body.tenant_id);
    const row = await submitJob(appCtx(c), {
      clusterId: body.cluster_id,
      name: body.name,
      gpuCount: body.gpu_count,
      gpuType: body.gpu_type,
      priority: body.priority,
      tenantId,
      submittedBy: body.submitted_by ?? `api_key:${caller.keyId}`,
      estimatedDurationMin: body.estimated_duration_min,
      command: body.command,
      image: body.image,
      env: body.env,
    });
    return ok(c, Job, jobView(row), 201);
  },
);

jobRoutes.openapi(
  createRoute({
    method: "get",
    path: "/jobs",
    access: tenant("jobs", "read"),
    tags,
    summary: "List jobs, newest first (a tenant key sees its own)",
    request: { query: PageQuery.extend(JobListQuery.shape) },
    responses: { 200: jsonResponse(listEnvelope(Job), "Jobs"), ...commonErrors },
  }),
  async (c) => {
    const query = c.req.valid("query");
    const tenantId = listTenant(c, query.tenant_id);
    const page = await listJobs(appCtx(c), { tenantId, clusterId: query.cluster_id, status: query.status }, query);
    return okList(c, Job, { ...page, items: page.items.map(jobView) });
  },
);

jobRoutes.openapi(
  createRoute({
    method: "get",
    path: "/jobs/{id}",
    access: tenant("jobs", "read"),
    tags,
    summary: "Get a job",
    request: { params: IdParam },
    responses: { 200: jsonResponse(envelope(Job), "Job"), ...commonErrors },
  }),
  async (c) => {
    const row = await getJob(appCtx(c), c.req.valid("param").id, tenantScope(c));
    return ok(c, Job, jobView(row), 200);
  },
);

jobRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/jobs/{id}/status",
    access: tenant("jobs", "write"),
    tags,
    summary: "Change a job's status (block_reason required for 'blocked'); 409 names the current state",
    request: { params: IdParam, ...jsonBody(StatusBody) },
    responses: { 200: jsonResponse(envelope(Job), "Updated"), ...commonErrors, 409: errorResponses[409] },
  }),
  async (c) => {
    const body = c.req.valid("json");
    if (body.status === "blocked" && !body.block_reason) {
      throw badRequest("block_reason is required when status is 'blocked'");
    }
    const row = await setJobStatus(appCtx(c), c.req.valid("param").id, tenantScope(c), {
      status: body.status,
      blockReason: body.block_reason,
    });
    return ok(c, Job, jobView(row), 200);
  },
);

jobRoutes.openapi(
  createRoute({
    method: "post",
    path: "/jobs/{id}/cancel",
    access: tenant("jobs", "write"),
    tags,
    summary: "Cancel a job; its GPUs are released at once",
    request: { params: IdParam },
    responses: { 200: jsonResponse(envelope(Job), "Cancelled"), ...commonErrors, 409: errorResponses[409] },
  }),
  async (c) => {
    const row = await cancelJob(appCtx(c), c.req.valid("param").id, tenantScope(c));
    return ok(c, Job, jobView(row), 200);
  },
);
