import { z } from "@hono/zod-openapi";
import type { DeliveryView } from "../../domain/webhooks/deliveries.js";
import { deliveryStatuses } from "../../domain/webhooks/deliveries.js";
import type { EndpointRow } from "../../domain/webhooks/endpoints.js";
import { PageQuery } from "../../http/pagination.js";
import { int32, urlInt } from "../../lib/schemas.js";

export const Webhook = z
  .object({
    id: z.string(),
    tenant_id: z.number().int().nullable().openapi({ description: "Null for an operator endpoint (alerts, nodes)" }),
    url: z.string(),
    description: z.string().nullable(),
    events: z.array(z.string()),
    status: z.enum(["active", "disabled"]),
    disabled_reason: z.string().nullable(),
    consecutive_failures: z.number().int(),
    failing_since: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi("Webhook");

export const CreatedWebhook = Webhook.extend({
  secret: z.string().openapi({
    description: "Standard Webhooks signing secret (whsec_…). Shown once: store it to verify webhook-signature.",
  }),
}).openapi("CreatedWebhook");

export const webhookView = (w: EndpointRow, withSecret = false) => ({
  id: w.id,
  tenant_id: w.tenantId,
  url: w.url,
  description: w.description,
  events: w.events,
  status: w.status,
  disabled_reason: w.disabledReason,
  consecutive_failures: w.consecutiveFailures,
  failing_since: w.failingSince?.toISOString() ?? null,
  created_at: w.createdAt.toISOString(),
  ...(withSecret ? { secret: w.secret } : {}),
});

const Events = z
  .array(z.string().min(1).max(64))
  .min(1)
  .max(100)
  .openapi({ example: ["instance.*", "waitlist.available"], description: "Exact types, `domain.*` or `*`" });
const Url = z.string().min(1).max(2048).openapi({ example: "https://example.com/hooks/gpuplane" });

export const CreateWebhookBody = z
  .object({
    url: Url,
    events: Events,
    description: z.string().max(500).optional(),
    tenant_id: int32().optional().openapi({ description: "Operator keys only: act for a tenant" }),
  })
  .strict()
  .openapi("CreateWebhook");

export const UpdateWebhookBody = z
  .object({
    url: Url.optional(),
    events: Events.optional(),
    description: z.string().max(500).nullable().optional(),
    status: z
      .enum(["active", "disabled"])
      .optional()
      .openapi({ description: "`active` re-enables a disabled endpoint" }),
  })
  .strict()
  .openapi("UpdateWebhook");

export const Delivery = z
  .object({
    id: z.string(),
    webhook_id: z.string(),
    event_id: z.string().openapi({ description: "Also the webhook-id header the receiver saw" }),
    event: z.string(),
    status: z.enum(deliveryStatuses),
    attempts: z.number().int(),
    next_attempt_at: z.string().nullable(),
    last_status_code: z.number().int().nullable(),
    last_error: z.string().nullable(),
    last_attempt_at: z.string().nullable(),
    delivered_at: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi("WebhookDelivery");

export const deliveryView = (d: DeliveryView) => ({
  id: d.id,
  webhook_id: d.endpointId,
  event_id: d.eventId,
  event: d.eventType,
  status: d.status,
  attempts: d.attempts,
  next_attempt_at: d.status === "pending" ? d.nextAttemptAt.toISOString() : null,
  last_status_code: d.lastStatusCode,
  last_error: d.lastError,
  last_attempt_at: d.lastAttemptAt?.toISOString() ?? null,
  delivered_at: d.deliveredAt?.toISOString() ?? null,
  created_at: d.createdAt.toISOString(),
});

export const OwnerQuery = z.object({
  tenant_id: urlInt().optional().openapi({ description: "Operator keys: a tenant's" }),
});
export const WebhookListQuery = PageQuery.extend(OwnerQuery.shape);
export const DeliveryListQuery = WebhookListQuery.extend({ status: z.enum(deliveryStatuses).optional() });

export const WebhookId = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "id", in: "path" } }),
});
