import {
  createEndpoint,
  deleteEndpoint,
  getEndpoint,
  listEndpoints,
  ownerFor,
  updateEndpoint,
} from "../../domain/webhooks/endpoints.js";
import { createRoute, tenant } from "../../http/access.js";
import { appCtx, auditActor, principal, router } from "../../http/env.js";
import { commonErrors, envelope, jsonBody, jsonResponse, listEnvelope, ok, okList } from "../../http/envelope.js";
import {
  CreatedWebhook,
  CreateWebhookBody,
  OwnerQuery,
  UpdateWebhookBody,
  Webhook,
  WebhookId,
  WebhookListQuery,
  webhookView,
} from "./schemas.js";

export const webhookRoutes = router();
const tags = ["Webhooks"];

webhookRoutes.openapi(
  createRoute({
    method: "post",
    path: "/webhooks",
    access: tenant("webhooks", "write"),
    tags,
    summary: "Register a webhook endpoint; the signing secret (`data.secret`) is returned once",
    request: jsonBody(CreateWebhookBody),
    responses: { 201: jsonResponse(envelope(CreatedWebhook), "Created"), ...commonErrors },
  }),
  async (c) => {
    const caller = principal(c);
    const body = c.req.valid("json");
    const row = await createEndpoint(appCtx(c), ownerFor(caller, body.tenant_id), body, auditActor(c));
    return ok(c, CreatedWebhook, webhookView(row, true), 201);
  },
);

webhookRoutes.openapi(
  createRoute({
    method: "get",
    path: "/webhooks",
    access: tenant("webhooks", "read"),
    tags,
    summary: "List webhook endpoints",
    request: { query: WebhookListQuery },
    responses: { 200: jsonResponse(listEnvelope(Webhook), "Webhook endpoints"), ...commonErrors },
  }),
  async (c) => {
    const caller = principal(c);
    const query = c.req.valid("query");
    const page = await listEndpoints(appCtx(c), ownerFor(caller, query.tenant_id), query);
    return okList(c, Webhook, { ...page, items: page.items.map((w) => webhookView(w)) });
  },
);

webhookRoutes.openapi(
  createRoute({
    method: "get",
    path: "/webhooks/{id}",
    access: tenant("webhooks", "read"),
    tags,
    summary: "Get a webhook endpoint (never its secret)",
    request: { params: WebhookId, query: OwnerQuery },
    responses: { 200: jsonResponse(envelope(Webhook), "Webhook endpoint"), ...commonErrors },
  }),
  async (c) => {
    const caller = principal(c);
    const owner = ownerFor(caller, c.req.valid("query").tenant_id);
    return ok(c, Webhook, webhookView(await getEndpoint(appCtx(c), owner, c.req.valid("param").id)));
  },
);

webhookRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/webhooks/{id}",
    access: tenant("webhooks", "write"),
    tags,
    summary: "Change a webhook's url, events or description; `status: active` re-enables a disabled one",
    request: { params: WebhookId, query: OwnerQuery, ...jsonBody(UpdateWebhookBody) },
    responses: { 200: jsonResponse(envelope(Webhook), "Updated"), ...commonErrors },
  }),
  async (c) => {
    const caller = principal(c);
    const owner = ownerFor(caller, c.req.valid("query").tenant_id);
    const row = await updateEndpoint(appCtx(c), owner, c.req.valid("param").id, c.req.valid("json"), auditActor(c));
    return ok(c, Webhook, webhookView(row));
  },
);

webhookRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/webhooks/{id}",
    access: tenant("webhooks", "write"),
    tags,
    summary: "Delete a webhook endpoint and its delivery log",
    request: { params: WebhookId, query: OwnerQuery },
    responses: { 200: jsonResponse(envelope(Webhook), "Deleted"), ...commonErrors },
  }),
  async (c) => {
    const caller = principal(c);
    const owner = ownerFor(caller, c.req.valid("query").tenant_id);
    return ok(c, Webhook, webhookView(await deleteEndpoint(appCtx(c), owner, c.req.valid("param").id, auditActor(c))));
  },
);
