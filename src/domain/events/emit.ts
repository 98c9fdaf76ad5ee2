import { sql } from "drizzle-orm";
import type { Executor } from "../../db/client.js";
import { copyInto, copyValue } from "../../db/copy.js";
import { events, webhookDeliveries, webhookEndpoints } from "../../db/schema/index.js";
import { intArray, queryRows, textArray } from "../../db/sql.js";
import { newId } from "../../lib/ids.js";

/**
 * Every event type, by domain. Instance events are `instance.<status>`; others are named by domain.
 * A webhook endpoint subscribes to exact types, a domain wildcard (`instance.*`) or `*`.
 */
export const eventTypesByDomain = {
  instance: ["ordered", "provisioning", "running", "stopping", "stopped", "deleting", "deleted", "failed", "lost"],
  waitlist: ["available", "deployed", "failed"],
  billing: ["low_balance", "auto_stop_warning", "auto_stopped", "credits_added", "invoice_created", "invoice_paid"],
  volume: ["attached", "detached", "deleted"],
  job: ["scheduled", "running", "completed", "failed", "cancelled", "preempted", "blocked"],
  alert: ["opened", "resolved"],
  node: ["down", "up"],
  /**
   * Resold clouds: an upstream instance with gpuplane's tag and no record, found and (after its grace) terminated; an
   * instance that did not become reachable within the provider's provisioning timeout, terminated and failed.
   */
  provider: ["orphan_found", "orphan_terminated", "provisioning_timeout"],
  /** Sent only by POST /webhooks/{id}/test, to that endpoint alone. */
  webhook: ["ping"],
} as const;

type Domains = typeof eventTypesByDomain;
export type EventDomain = keyof Domains;
export type EventType = { [D in EventDomain]: `${D}.${Domains[D][number]}` }[EventDomain];

export const eventTypes: EventType[] = Object.entries(eventTypesByDomain).flatMap(([domain, names]) =>
  names.map((name) => `${domain}.${name}` as EventType),
);

/** Operator events (tenant null): only operator endpoints receive them. */
export const operatorEventDomains: EventDomain[] = ["alert", "node", "provider"];

/** PostgreSQL channel the delivery loop listens on; NOTIFY inside a transaction is sent only when it commits. */
export const deliveryChannel = "gpuplane_webhook_delivery";

/**
 * Records an event and queues one delivery per subscribed active endpoint, in the caller's transaction: the event
 * goes out if and only if the change that caused it commits (the outbox pattern). `tenantId` null = operator event,
 * delivered to operator endpoints (those with no tenant).
 *
 * Callers need not kick the delivery loop: when a delivery is queued, a NOTIFY in the same transaction wakes the
 * `webhook-delivery` loop of every replica at commit (see domain/webhooks/wakeup.ts); it also polls every second.
 */
export async function emitEvent(
  tx: Executor,
  tenantId: number | null,
  type: EventType,
  data: Record<string, unknown>,
  at: Date = new Date(),
): Promise<string> {
  const [id] = await emitEvents(tx, [{ tenantId, type, data }], at);
  return id;
}

export interface EventInput {
  tenantId: number | null;
  type: EventType;
  data: Record<string, unknown>;
}

/**
 * emitEvent for many events at once (a scheduling pass places thousands of jobs): the same rows, the same
 * subscription matching (exact type, the domain's `x.*` or `*`; tenant endpoints for tenant events, operator
 * endpoints for operator events), in three statements whatever the count: one insert of the events, one query for
 * the endpoints that may match, one insert of the deliveries (plus the NOTIFY when any was queued). Returns the
 * event ids in input order. All events are recorded at `at`.
 */
export async function emitEvents(tx: Executor, list: EventInput[], at: Date = new Date()): Promise<string[]> {
  if (!list.length) return [];
  const rows = list.map((e) => ({ id: newId("evt"), tenant_id: e.tenantId, type: e.type, data: e.data }));
  // Many events (a scheduling pass's thousands) go by COPY where the connection allows it (PostgreSQL); otherwise,
  // and for a few, rows travel as one JSON parameter (the same on node-postgres and PGlite, no parameter limit),
  // read as jsonb, which parses once (about 20% faster than json_to_recordset).
  const copied =
    rows.length >= copyThreshold &&
    (await copyInto(
      tx,
      "events",
      ["id", "tenant_id", "type", "data", "created_at"],
      copyLines(rows, at.toISOString()),
    ));
  if (!copied) {
    await tx.execute(
      sql`insert into ${events} (id, tenant_id, type, data, created_at)
          select id, tenant_id, type, data, ${at} from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
            as v(id text, tenant_id int, type text, data jsonb)`,
    );
  }
  // webhook.ping is addressed to one endpoint by its caller, never by subscription.
  const routed = rows.filter((e) => e.type !== "webhook.ping");
  if (!routed.length) return rows.map((e) => e.id);

  const names = new Set<string>(["*"]);
  const tenantIds = new Set<number>();
  let operator = false;
  for (const e of routed) {
    names.add(e.type);
    names.add(domainWildcard(e.type));
    if (e.tenant_id === null) operator = true;
    else tenantIds.add(e.tenant_id);
  }
  const owners = [
    ...(tenantIds.size ? [sql`${webhookEndpoints.tenantId} = any(${intArray(tenantIds)}::int[])`] : []),
    ...(operator ? [sql`${webhookEndpoints.tenantId} is null`] : []),
  ];
  const endpoints = await queryRows<{ id: string; tenant_id: number | null; events: string[] }>(
    tx,
    sql`select id, tenant_id, events from ${webhookEndpoints}
        where status = 'active' and (${sql.join(owners, sql` or `)})
          and events && ${textArray(names)}::text[]`,
  );
  if (!endpoints.length) return rows.map((e) => e.id);

  const byOwner = new Map<number | null, typeof endpoints>();
  for (const w of endpoints) {
    const list = byOwner.get(w.tenant_id) ?? [];
    list.push(w);
    byOwner.set(w.tenant_id, list);
  }
  const deliveries: { id: string; endpoint_id: string; event_id: string }[] = [];
  for (const e of routed) {
    const domain = domainWildcard(e.type);
    for (const w of byOwner.get(e.tenant_id) ?? []) {
      if (w.events.includes(e.type) || w.events.includes(domain) || w.events.includes("*")) {
        deliveries.push({ id: newId("whd"), endpoint_id: w.id, event_id: e.id });
      }
    }
  }
  if (deliveries.length) {
    await tx.execute(
      sql`insert into ${webhookDeliveries} (id, endpoint_id, event_id, next_attempt_at, created_at)
          select id, endpoint_id, event_id, ${at}, ${at} from jsonb_to_recordset(${JSON.stringify(deliveries)}::jsonb)
            as v(id text, endpoint_id text, event_id text)`,
    );
    await notifyDeliveryLoop(tx);
  }
  return rows.map((e) => e.id);
}

/** From this many events on, COPY (where available) beats one INSERT … SELECT. */
const copyThreshold = 200;

function copyLines(rows: { id: string; tenant_id: number | null; type: string; data: unknown }[], at: string) {
  let out = "";
  for (const r of rows) {
    out += `${r.id}\t${copyValue(r.tenant_id)}\t${r.type}\t${copyValue(JSON.stringify(r.data))}\t${at}\n`;
  }
  return out;
}

function domainWildcard(type: string): string {
  return `${type.split(".")[0]}.*`;
}

/** Wakes the delivery loops when the caller's transaction commits (PostgreSQL folds repeats within one). */
export async function notifyDeliveryLoop(tx: Executor): Promise<void> {
  await tx.execute(sql`select pg_notify(${deliveryChannel}, '')`);
}
