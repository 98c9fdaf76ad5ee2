import { listDeliveries, sendTestEvent } from "../../domain/webhooks/deliveries.js";
import { ownerFor } from "../../domain/webhooks/endpoints.js";
import { createRoute, tenant } from "../../http/access.js";
import { appCtx, principal, router } from "../../http/env.js";
import { commonErrors, envelope, errorResponses, jsonResponse, listEnvelope, ok, okList } from "../../http/envelope.js";
import { Delivery, DeliveryListQuery, deliveryView, OwnerQuery, WebhookId } from "./schemas.js";

export const deliveryRoutes = router();
const tags = ["Webhooks"];

deliveryRoutes.openapi(
  createRoute({
    method: "get",
    path: "/webhooks/{id}/deliveries",
    access: tenant("webhooks", "read"),
    tags,
    summary: "The delivery log: each event sent to this endpoint, its attempts and the last answer",
    request: { params: WebhookId, query: DeliveryListQuery },
    responses: { 200: jsonResponse(listEnvelope(Delivery), "Deliveries, newest first"), ...commonErrors },
  }),
  async (c) => {
    const caller = principal(c);
    const query = c.req.valid("query");
    const page = await listDeliveries(appCtx(c), ownerFor(caller, query.tenant_id), c.req.valid("param").id, query);
    return okList(c, Delivery, { ...page, items: page.items.map(deliveryView) });
  },
);

deliveryRoutes.openapi(
  createRoute({
    method: "post",
    path: "/webhooks/{id}/test",
    access: tenant("webhooks", "write"),
    tags,
    summary: "Send a `webhook.ping` event to this endpoint; follow it in the delivery log",
    request: { params: WebhookId, query: OwnerQuery },
    responses: {
      202: jsonResponse(envelope(Delivery), "Queued"),
      ...commonErrors,
      409: errorResponses[409],
    },
  }),
  async (c) => {
    const caller = principal(c);
    const owner = ownerFor(caller, c.req.valid("query").tenant_id);
    const delivery = await sendTestEvent(appCtx(c), owner, c.req.valid("param").id);
    return ok(c, Delivery, deliveryView(delivery), 202);
  },
);
