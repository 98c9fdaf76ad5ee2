import { cancelEntry, getEntry, joinWaitlist, listEntries } from "../../domain/waitlist/entries.js";
import { actingFor, createRoute, tenant } from "../../http/access.js";
import { appCtx, router } from "../../http/env.js";
import { commonErrors, envelope, jsonBody, jsonResponse, listEnvelope, ok, okList } from "../../http/envelope.js";
import { badRequest } from "../../lib/errors.js";
import {
  EntryId,
  entryView,
  JoinWaitlistBody,
  TenantQuery,
  WaitlistEntrySchema,
  WaitlistListQuery,
} from "./schemas.js";

export const waitlistRoutes = router();
const tags = ["Waitlist"];

waitlistRoutes.openapi(
  createRoute({
    method: "post",
    path: "/waitlist",
    access: tenant("waitlist", "write"),
    tags,
    summary: "Queue for a GPU type in a region: be notified (waitlist.available) or deployed when capacity opens",
    request: jsonBody(JoinWaitlistBody),
    responses: { 201: jsonResponse(envelope(WaitlistEntrySchema), "Queued, with its position"), ...commonErrors },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const instanceType = body.instance_type ?? body.cluster_type ?? body.plan_id;
    if (!instanceType) throw badRequest("instance_type is required (a plan id or cluster type, e.g. 1H100.80S.30V)");
    const region = body.region ?? body.location;
    if (!region) throw badRequest("region is required (e.g. FIN-01; see GET /api/v1/regions)");
    const entry = await joinWaitlist(appCtx(c), actingFor(c, body.tenant_id), {
      instanceType,
      region,
      mode: body.mode,
      deploy: body.deploy,
    });
    return ok(c, WaitlistEntrySchema, entryView(entry), 201);
  },
);

waitlistRoutes.openapi(
  createRoute({
    method: "get",
    path: "/waitlist",
    access: tenant("waitlist", "read"),
    tags,
    summary: "List waitlist entries, newest first, each with its position in its queue",
    request: { query: WaitlistListQuery },
    responses: { 200: jsonResponse(listEnvelope(WaitlistEntrySchema), "Waitlist entries"), ...commonErrors },
  }),
  async (c) => {
    const query = c.req.valid("query");
    const page = await listEntries(appCtx(c), actingFor(c, query.tenant_id), query);
    return okList(c, WaitlistEntrySchema, { ...page, items: page.items.map(entryView) });
  },
);

waitlistRoutes.openapi(
  createRoute({
    method: "get",
    path: "/waitlist/{id}",
    access: tenant("waitlist", "read"),
    tags,
    summary: "Get a waitlist entry and its position",
    request: { params: EntryId, query: TenantQuery },
    responses: { 200: jsonResponse(envelope(WaitlistEntrySchema), "Waitlist entry"), ...commonErrors },
  }),
  async (c) => {
    const tenantId = actingFor(c, c.req.valid("query").tenant_id);
    return ok(c, WaitlistEntrySchema, entryView(await getEntry(appCtx(c), tenantId, c.req.valid("param").id)));
  },
);

waitlistRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/waitlist/{id}",
    access: tenant("waitlist", "write"),
    tags,
    summary: "Leave the waitlist (a waiting entry becomes cancelled)",
    request: { params: EntryId, query: TenantQuery },
    responses: { 200: jsonResponse(envelope(WaitlistEntrySchema), "Cancelled"), ...commonErrors },
  }),
  async (c) => {
    const tenantId = actingFor(c, c.req.valid("query").tenant_id);
    return ok(c, WaitlistEntrySchema, entryView(await cancelEntry(appCtx(c), tenantId, c.req.valid("param").id)));
  },
);
