import { randomBytes } from "node:crypto";
import { and, count, desc, eq, isNull, lt } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import type { Executor } from "../../db/client.js";
import { webhookDeliveries, webhookEndpoints } from "../../db/schema/index.js";
import type { PageQuery } from "../../http/pagination.js";
import { paginate } from "../../http/pagination.js";
import { badRequest, notFound } from "../../lib/errors.js";
import { newId } from "../../lib/ids.js";
import { type Actor, audit, changes, systemActor } from "../audit/audit.js";
import { type EventDomain, eventTypes, eventTypesByDomain, operatorEventDomains } from "../events/emit.js";
import { actingTenant, isOperator, type Principal } from "../identity/principal.js";
import { refusedHost } from "./egress.js";

export type EndpointRow = typeof webhookEndpoints.$inferSelect;

/** Whose endpoints a caller acts on: a tenant's, or the operator's own (tenant null). */
export type Owner = number | null;

export const MAX_ENDPOINTS_PER_OWNER = 50;

/** A Standard Webhooks secret: "whsec_" + base64 of 24 random bytes. */
export const newWebhookSecret = () => `whsec_${randomBytes(24).toString("base64")}`;

/**
 * Receivers must be http(s) URLs with a host and no credentials in them, and, unless the operator allows it, not on
 * a private address (egress.ts; delivery checks what a name resolves to).
 */
export function checkUrl(url: string, allowPrivate: boolean): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw badRequest("url must be an absolute http(s) URL");
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw badRequest("url must use http or https");
  if (!parsed.hostname) throw badRequest("url must name a host");
  if (parsed.username || parsed.password) throw badRequest("url must not carry credentials; sign with the secret");
  const refused = allowPrivate ? null : refusedHost(parsed.hostname);
  if (refused) throw badRequest(`url: ${refused}; webhooks are delivered to public addresses only`);
  return parsed.toString();
}

/**
 * Subscriptions are exact types (`instance.running`), a domain wildcard (`instance.*`) or `*`. Operator events
 * (alerts, nodes) carry no tenant, so a tenant endpoint subscribing to them would never hear anything: refused.
 */
export function checkEvents(names: string[], owner: Owner): string[] {
  if (!names.length) throw badRequest("events must name at least one event type, a wildcard like instance.* or *");
  for (const name of names) {
    const [domain, rest] = name.split(".", 2);
    const known =
      name === "*" ||
      (rest === "*" && domain in eventTypesByDomain) ||
      (eventTypes as string[]).includes(name) ||
      false;
    if (!known) throw badRequest(`events: unknown event type '${name}'`);
    if (owner !== null && operatorEventDomains.includes(domain as EventDomain)) {
      throw badRequest(`events: '${name}' is an operator event; tenant endpoints cannot subscribe to it`);
    }
  }
  return [...new Set(names)];
}

const ownedBy = (owner: Owner) =>
  owner === null ? isNull(webhookEndpoints.tenantId) : eq(webhookEndpoints.tenantId, owner);

/** An endpoint's fields for the audit trail: never its signing secret. */
const endpointSnapshot = (e: EndpointRow) => ({
  url: e.url,
  events: e.events,
  description: e.description,
  status: e.status,
});

export interface EndpointInput {
  url: string;
  events: string[];
  description?: string | null;
}

/** Creates an endpoint and returns it with its secret, which is never returned again. */
export async function createEndpoint(ctx: AppContext, owner: Owner, input: EndpointInput, actor: Actor = systemActor) {
  const url = checkUrl(input.url, ctx.config.webhookAllowPrivate);
  const events = checkEvents(input.events, owner);
  const [{ n }] = await ctx.db.select({ n: count() }).from(webhookEndpoints).where(ownedBy(owner));
  if (n >= MAX_ENDPOINTS_PER_OWNER)
    throw badRequest(`at most ${MAX_ENDPOINTS_PER_OWNER} webhook endpoints per account`);
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(webhookEndpoints)
      .values({
        id: newId("wh"),
        tenantId: owner,
        url,
        events,
        description: input.description ?? null,
        secret: newWebhookSecret(),
        createdAt: ctx.clock.now(),
      })
      .returning();
    await audit(tx, actor, {
      action: "webhook.create",
      target: `webhook:${row.id}`,
      tenantId: owner,
      after: endpointSnapshot(row),
    });
    return row;
  });
}

export async function listEndpoints(ctx: AppContext, owner: Owner, query: PageQuery) {
  return paginate(
    query,
    (after, take) =>
      ctx.db
        .select()
        .from(webhookEndpoints)
        .where(and(ownedBy(owner), after !== undefined ? lt(webhookEndpoints.id, String(after)) : undefined))
        .orderBy(desc(webhookEndpoints.id))
        .limit(take),
    async () => (await ctx.db.select({ n: count() }).from(webhookEndpoints).where(ownedBy(owner)))[0].n,
  );
}

/** Another owner's endpoint is answered as missing. */
export async function getEndpoint(ctx: AppContext | { db: Executor }, owner: Owner, id: string): Promise<EndpointRow> {
  const [row] = await ctx.db
    .select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.id, id), ownedBy(owner)));
  if (!row) throw notFound("webhook");
  return row;
}

export interface EndpointPatch {
  url?: string;
  events?: string[];
  description?: string | null;
  /** "active" re-enables a disabled endpoint and clears its failure count; "disabled" pauses it. */
  status?: "active" | "disabled";
}

export async function updateEndpoint(
  ctx: AppContext,
  owner: Owner,
  id: string,
  patch: EndpointPatch,
  actor: Actor = systemActor,
) {
  const current = await getEndpoint(ctx, owner, id);
  const set: Partial<typeof webhookEndpoints.$inferInsert> = {};
  if (patch.url !== undefined) set.url = checkUrl(patch.url, ctx.config.webhookAllowPrivate);
  if (patch.events !== undefined) set.events = checkEvents(patch.events, owner);
  if (patch.description !== undefined) set.description = patch.description;
  if (patch.status === "active" && current.status !== "active") {
    Object.assign(set, { status: "active", disabledReason: null, consecutiveFailures: 0, failingSince: null });
  }
  const disable = patch.status === "disabled" && current.status !== "disabled";
  if (!disable && !Object.keys(set).length) return current;
  return ctx.db.transaction(async (tx) => {
    const row = disable
      ? await disableEndpoint(tx, id, "disabled by its owner", ctx.clock.now(), set)
      : (await tx.update(webhookEndpoints).set(set).where(eq(webhookEndpoints.id, id)).returning())[0];
    await audit(tx, actor, {
      action: "webhook.update",
      target: `webhook:${id}`,
      tenantId: owner,
      ...changes(endpointSnapshot(current), endpointSnapshot(row)),
    });
    return row;
  });
}

/** Disables an endpoint; deliveries still waiting for it are closed as failed so the log says why. */
export async function disableEndpoint(
  db: Executor,
  id: string,
  reason: string,
  at: Date,
  alsoSet: Partial<typeof webhookEndpoints.$inferInsert> = {},
): Promise<EndpointRow> {
  const [row] = await db
    .update(webhookEndpoints)
    .set({ ...alsoSet, status: "disabled", disabledReason: reason })
    .where(eq(webhookEndpoints.id, id))
    .returning();
  await db
    .update(webhookDeliveries)
    .set({ status: "failed", lastError: `not sent: endpoint disabled (${reason})`, lastAttemptAt: at })
    .where(and(eq(webhookDeliveries.endpointId, id), eq(webhookDeliveries.status, "pending")));
  return row;
}

export async function deleteEndpoint(
  ctx: AppContext,
  owner: Owner,
  id: string,
  actor: Actor = systemActor,
): Promise<EndpointRow> {
  const row = await getEndpoint(ctx, owner, id);
  await ctx.db.transaction(async (tx) => {
    await tx.delete(webhookEndpoints).where(eq(webhookEndpoints.id, id)); // deliveries go with it (cascade)
    await audit(tx, actor, {
      action: "webhook.delete",
      target: `webhook:${id}`,
      tenantId: owner,
      before: endpointSnapshot(row),
    });
  });
  return row;
}

/** A tenant key acts on its own endpoints; an operator key on its own (tenant null) or, naming one, a tenant's. */
export function ownerFor(p: Principal, requested?: number): Owner {
  return isOperator(p) ? (requested ?? null) : actingTenant(p, requested);
}
