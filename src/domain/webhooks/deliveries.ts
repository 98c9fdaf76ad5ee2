import { and, count, desc, eq, lt } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import { events, webhookDeliveries } from "../../db/schema/index.js";
import type { PageQuery } from "../../http/pagination.js";
import { paginate } from "../../http/pagination.js";
import { conflict } from "../../lib/errors.js";
import { newId } from "../../lib/ids.js";
import { emitEvent, notifyDeliveryLoop } from "../events/emit.js";
import { getEndpoint, type Owner } from "./endpoints.js";

export const deliveryStatuses = ["pending", "delivered", "failed"] as const;

export interface DeliveryView {
  id: string;
  endpointId: string;
  eventId: string;
  eventType: string;
  status: string;
  attempts: number;
  nextAttemptAt: Date;
  lastStatusCode: number | null;
  lastError: string | null;
  lastAttemptAt: Date | null;
  deliveredAt: Date | null;
  createdAt: Date;
}

const columns = {
  id: webhookDeliveries.id,
  endpointId: webhookDeliveries.endpointId,
  eventId: webhookDeliveries.eventId,
  eventType: events.type,
  status: webhookDeliveries.status,
  attempts: webhookDeliveries.attempts,
  nextAttemptAt: webhookDeliveries.nextAttemptAt,
  lastStatusCode: webhookDeliveries.lastStatusCode,
  lastError: webhookDeliveries.lastError,
  lastAttemptAt: webhookDeliveries.lastAttemptAt,
  deliveredAt: webhookDeliveries.deliveredAt,
  createdAt: webhookDeliveries.createdAt,
};

/** An endpoint's delivery log, newest first; `status` narrows it (e.g. the failed ones). */
export async function listDeliveries(
  ctx: AppContext,
  owner: Owner,
  endpointId: string,
  query: PageQuery & { status?: (typeof deliveryStatuses)[number] },
) {
  await getEndpoint(ctx, owner, endpointId);
  const where = and(
    eq(webhookDeliveries.endpointId, endpointId),
    query.status ? eq(webhookDeliveries.status, query.status) : undefined,
  );
  return paginate<DeliveryView>(
    query,
    (after, take) =>
      ctx.db
        .select(columns)
        .from(webhookDeliveries)
        .innerJoin(events, eq(events.id, webhookDeliveries.eventId))
        .where(and(where, after !== undefined ? lt(webhookDeliveries.id, String(after)) : undefined))
        .orderBy(desc(webhookDeliveries.id))
        .limit(take),
    async () => (await ctx.db.select({ n: count() }).from(webhookDeliveries).where(where))[0].n,
  );
}

/** Queues a `webhook.ping` to this endpoint alone; the delivery log shows how it went. */
export async function sendTestEvent(ctx: AppContext, owner: Owner, endpointId: string): Promise<DeliveryView> {
  const endpoint = await getEndpoint(ctx, owner, endpointId);
  if (endpoint.status !== "active") {
    throw conflict('this webhook is disabled; re-enable it with PATCH {"status": "active"} first');
  }
  const now = ctx.clock.now();
  const id = newId("whd");
  const eventId = await ctx.db.transaction(async (tx) => {
    const eventId = await emitEvent(tx, owner, "webhook.ping", { webhook_id: endpoint.id, message: "ping" }, now);
    await tx.insert(webhookDeliveries).values({ id, endpointId, eventId, nextAttemptAt: now, createdAt: now });
    await notifyDeliveryLoop(tx);
    return eventId;
  });
  return {
    id,
    endpointId,
    eventId,
    eventType: "webhook.ping",
    status: "pending",
    attempts: 0,
    nextAttemptAt: now,
    lastStatusCode: null,
    lastError: null,
    lastAttemptAt: null,
    deliveredAt: null,
    createdAt: now,
  };
}
