import { and, eq, gt, inArray, sql } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import type { AppContext } from "../../context.js";
import { webhookDeliveries, webhookEndpoints } from "../../db/schema/index.js";
import { itemFailed } from "../loops/isolate.js";
import { type Egress, egressFor, post, RefusedAddressError, type Resolve } from "./egress.js";
import { disableEndpoint } from "./endpoints.js";
import {
  type DeliveryOptions,
  defaultDeliveryOptions,
  disableAfterFailingMs,
  leaseMarginMs,
  nextDelayMs,
} from "./policy.js";
import { wakeupFor } from "./wakeup.js";

export interface ClaimedDelivery {
  id: string;
  endpointId: string;
  eventId: string;
  /** Including the one being made now. */
  attempts: number;
  url: string;
  secret: string;
  type: string;
  data: unknown;
  eventAt: Date;
}

export interface AttemptResult {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
}

export interface RunSummary {
  delivered: number;
  failed: number;
  retrying: number;
}

/**
 * Claims up to `limit` due deliveries of active endpoints. `FOR UPDATE SKIP LOCKED` lets replicas claim side by
 * side without waiting on or taking each other's rows, and the claim leases the row (next_attempt_at moves past the
 * timeout) in the same statement, so no other claimer sees it as due while it is in flight — nor after a crash
 * until the lease runs out.
 */
export async function claimDue(ctx: AppContext, limit: number, timeoutMs: number): Promise<ClaimedDelivery[]> {
  const now = ctx.clock.now();
  const lease = new Date(now.getTime() + timeoutMs + leaseMarginMs);
  const result = await ctx.db.execute(sql`
    with due as (
      select d.id from webhook_deliveries d
      join webhook_endpoints e on e.id = d.endpoint_id and e.status = 'active'
      where d.status = 'pending' and d.next_attempt_at <= ${now.toISOString()}::timestamptz
      order by d.next_attempt_at
      limit ${limit}
      for update of d skip locked
    ), claimed as (
      update webhook_deliveries d
      set attempts = d.attempts + 1, next_attempt_at = ${lease.toISOString()}::timestamptz,
          last_attempt_at = ${now.toISOString()}::timestamptz
      from due where d.id = due.id
      returning d.id, d.endpoint_id, d.event_id, d.attempts
    )
    select c.id, c.endpoint_id, c.event_id, c.attempts, e.url, e.secret, ev.type, ev.data, ev.created_at
    from claimed c
    join webhook_endpoints e on e.id = c.endpoint_id
    join events ev on ev.id = c.event_id`);
  return (result as unknown as { rows: Record<string, any>[] }).rows.map((r) => ({
    id: r.id,
    endpointId: r.endpoint_id,
    eventId: r.event_id,
    attempts: Number(r.attempts),
    url: r.url,
    secret: r.secret,
    type: r.type,
    data: typeof r.data === "string" ? JSON.parse(r.data) : r.data,
    eventAt: new Date(r.created_at),
  }));
}

/** The request body: Standard Webhooks' `{type, timestamp, data}`; the timestamp is when the event happened. */
export const payloadOf = (d: Pick<ClaimedDelivery, "type" | "eventAt" | "data">) =>
  JSON.stringify({ type: d.type, timestamp: d.eventAt.toISOString(), data: d.data });

/**
 * One signed POST. Redirects are not followed (a 3xx is a failure), so a receiver cannot bounce us elsewhere; the
 * connection goes only to addresses the egress guard checked (see egress.ts).
 */
export async function attempt(d: ClaimedDelivery, timeoutMs: number, egress: Egress): Promise<AttemptResult> {
  const body = payloadOf(d);
  // Transport time, not domain time: receivers compare webhook-timestamp with their own clock (5 min tolerance).
  const sentAt = new Date();
  const headers = {
    "content-type": "application/json",
    "user-agent": "gpuplane-webhooks/1",
    "webhook-id": d.eventId,
    "webhook-timestamp": String(Math.floor(sentAt.getTime() / 1000)),
    "webhook-signature": new Webhook(d.secret).sign(d.eventId, sentAt, body),
  };
  try {
    const res = await post(d.url, { headers, body, timeoutMs }, egress);
    if (res.status >= 200 && res.status < 300) return { ok: true, statusCode: res.status, error: null };
    const text = res.text.slice(0, 300);
    return { ok: false, statusCode: res.status, error: `HTTP ${res.status}${text ? `: ${text}` : ""}` };
  } catch (error: any) {
    if (error instanceof RefusedAddressError) return { ok: false, statusCode: null, error: error.message };
    const timedOut = error?.name === "TimeoutError" || error?.name === "AbortError";
    const reason = timedOut ? `no answer within ${timeoutMs} ms` : (error?.code ?? error?.message ?? "error");
    return { ok: false, statusCode: null, error: timedOut ? reason : `could not connect: ${reason}` };
  }
}

/** Writes an attempt's outcome: delivered, retry later, failed; and disables a gone or long-failing endpoint. */
export async function recordResult(ctx: AppContext, d: ClaimedDelivery, result: AttemptResult): Promise<string> {
  const now = ctx.clock.now();
  const base = { lastStatusCode: result.statusCode, lastError: result.error, lastAttemptAt: now };
  return ctx.db.transaction(async (tx) => {
    if (result.ok) {
      await tx
        .update(webhookDeliveries)
        .set({ ...base, status: "delivered", deliveredAt: now })
        .where(eq(webhookDeliveries.id, d.id));
      // Only a recovering endpoint is written: a healthy one's row is not a hot spot for every delivery.
      await tx
        .update(webhookEndpoints)
        .set({ consecutiveFailures: 0, failingSince: null })
        .where(and(eq(webhookEndpoints.id, d.endpointId), gt(webhookEndpoints.consecutiveFailures, 0)));
      return "delivered";
    }
    if (result.statusCode === 410) {
      await tx
        .update(webhookDeliveries)
        .set({ ...base, status: "failed" })
        .where(eq(webhookDeliveries.id, d.id));
      await disableEndpoint(tx, d.endpointId, "the endpoint answered 410 Gone", now);
      return "failed";
    }
    const delay = nextDelayMs(d.attempts);
    await tx
      .update(webhookDeliveries)
      .set(
        delay === undefined
          ? { ...base, status: "failed" }
          : { ...base, nextAttemptAt: new Date(now.getTime() + delay) },
      )
      .where(eq(webhookDeliveries.id, d.id));
    const [endpoint] = await tx
      .update(webhookEndpoints)
      .set({
        consecutiveFailures: sql`${webhookEndpoints.consecutiveFailures} + 1`,
        failingSince: sql`coalesce(${webhookEndpoints.failingSince}, ${now.toISOString()}::timestamptz)`,
      })
      .where(eq(webhookEndpoints.id, d.endpointId))
      .returning();
    if (endpoint?.failingSince && now.getTime() - new Date(endpoint.failingSince).getTime() >= disableAfterFailingMs) {
      await disableEndpoint(tx, d.endpointId, `every delivery failed for 24 hours (last: ${result.error})`, now);
      return "failed";
    }
    return delay === undefined ? "failed" : "retrying";
  });
}

/** Marks delivered requests done and clears their endpoints' failure runs, in one transaction. */
export async function recordDelivered(ctx: AppContext, batch: { d: ClaimedDelivery; statusCode: number | null }[]) {
  const now = ctx.clock.now();
  const byCode = new Map<number | null, string[]>();
  for (const { d, statusCode } of batch) byCode.set(statusCode, [...(byCode.get(statusCode) ?? []), d.id]);
  const endpointIds = [...new Set(batch.map((b) => b.d.endpointId))];
  await ctx.db.transaction(async (tx) => {
    for (const [code, ids] of byCode) {
      await tx
        .update(webhookDeliveries)
        .set({ status: "delivered", deliveredAt: now, lastStatusCode: code, lastError: null })
        .where(inArray(webhookDeliveries.id, ids));
    }
    // Only recovering endpoints are written: a healthy one's row is not a hot spot for every delivery.
    await tx
      .update(webhookEndpoints)
      .set({ consecutiveFailures: 0, failingSince: null })
      .where(and(inArray(webhookEndpoints.id, endpointIds), gt(webhookEndpoints.consecutiveFailures, 0)));
  });
}

/**
 * One tick of the delivery loop: keeps up to `concurrency` requests in flight, claiming more as slots free up or as
 * new deliveries are committed, until nothing is due and nothing is in flight. A slow or dead receiver holds one
 * slot until its timeout; the others keep flowing.
 */
export async function runDeliveries(
  ctx: AppContext,
  options: Partial<DeliveryOptions> & { resolve?: Resolve } = {},
): Promise<RunSummary> {
  const { timeoutMs, concurrency, lingerMs } = { ...defaultDeliveryOptions, ...options };
  const egress = egressFor(ctx.config.webhookAllowPrivate, options.resolve);
  const lingerUntil = () => performance.now() + lingerMs;
  let idleUntil = lingerUntil();
  const wakeup = wakeupFor(ctx.database);
  const summary: RunSummary = { delivered: 0, failed: 0, retrying: 0 };
  const inFlight = new Set<Promise<void>>();
  let drained = false;
  // Successes are written in batches (one transaction per wake-up, not per request): the request has gone out, and
  // the lease covers a crash before the write (the receiver then sees the webhook-id again).
  const delivered: { d: ClaimedDelivery; statusCode: number | null }[] = [];
  const flush = async () => {
    if (!delivered.length) return;
    const batch = delivered.splice(0);
    await recordDelivered(ctx, batch).catch((error) =>
      ctx.log.error({ err: error, count: batch.length }, "webhook delivery: recording failed"),
    );
    summary.delivered += batch.length;
  };
  for (;;) {
    await flush();
    if (inFlight.size < concurrency && !drained) {
      const want = concurrency - inFlight.size;
      const claimed = await claimDue(ctx, want, timeoutMs);
      for (const d of claimed) {
        const run: Promise<void> = attempt(d, timeoutMs, egress)
          .then(async (result) => {
            if (result.ok) delivered.push({ d, statusCode: result.statusCode });
            else summary[(await recordResult(ctx, d, result)) as keyof RunSummary]++;
          })
          .catch((error) => itemFailed(ctx, "webhook-delivery", d.id, error))
          .finally(() => inFlight.delete(run));
        inFlight.add(run);
      }
      drained = claimed.length < want;
      if (!drained) continue;
    }
    if (!inFlight.size) {
      await flush();
      const left = idleUntil - performance.now();
      if (left <= 0) return summary;
      await wakeup.wait(left); // stay a little for the next event instead of ending the tick
      drained = false;
      continue;
    }
    // Wait for a slot, a newly committed delivery, or a retry coming due.
    await Promise.race([...inFlight, wakeup.wait(1_000)]);
    drained = false;
    idleUntil = lingerUntil();
  }
}
