import { randomBytes } from "node:crypto";
import { and, count, eq, gt, isNotNull, isNull } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import type { Executor } from "../../db/client.js";
import { apiKeys, instances, tenants, terminalSessions } from "../../db/schema/index.js";
import { ApiError, conflict, notFound } from "../../lib/errors.js";
import { newId } from "../../lib/ids.js";
import { sha256Hex } from "../../lib/secrets.js";
import type { Principal } from "../identity/principal.js";
import { getInstance } from "../instances/queries.js";
import type { InstanceRow } from "../instances/row.js";

/** A ticket is good for this long after it is issued, and once. */
export const TICKET_TTL_MS = 60_000;
/** Terminals one tenant may hold open at once, across every replica. */
export const MAX_OPEN_PER_TENANT = 4;
/** A terminal counts as open while the replica holding it refreshes `seen_at` within this (a dead replica's expire). */
export const SEEN_WITHIN_MS = 60_000;

export interface IssuedTicket {
  ticket: string;
  sessionId: string;
  expiresAt: Date;
  instance: InstanceRow;
}

/** A claimed ticket: the terminal that may now open, and where its shell is. */
export interface ClaimedTicket {
  sessionId: string;
  tenantId: number;
  keyId: string;
  instance: InstanceRow;
}

/**
 * Why an instance has no shell the server can reach, or null when it has one. The simulator has no machine behind
 * its instances; an instance that is not running, or has no SSH address yet, has nothing listening.
 */
export function noShellReason(row: InstanceRow): string | null {
  if (row.provider === "simulator") {
    return `instance ${row.id} runs on the simulated provider, which has no machine behind it: there is no shell to open (the web terminal works on fleet hosts and resold clouds)`;
  }
  if (row.status !== "running") {
    return `instance ${row.id} is ${row.status}; the web terminal opens on a running instance`;
  }
  if (!row.ipAddress || !row.sshPort) return `instance ${row.id} has no SSH address yet; try again in a moment`;
  return null;
}

/**
 * A single-use ticket for one terminal on one instance, bound to the key or console session asking. Browsers cannot
 * send an API key header on a WebSocket, so the socket presents this instead; only its SHA-256 is stored. Another
 * tenant's instance is a 404; an operator key is refused (a shell is for the instance's own tenant).
 */
export async function issueTicket(ctx: AppContext, caller: Principal, instanceId: string): Promise<IssuedTicket> {
  if (caller.tenantId === null) {
    throw new ApiError(
      "FORBIDDEN",
      "the web terminal opens only for the instance's own tenant (its API key or console session); an operator key cannot open a shell in a customer's instance",
    );
  }
  const instance = await getInstance(ctx, caller.tenantId, instanceId);
  const why = noShellReason(instance);
  if (why) throw conflict(why, { status: instance.status, provider: instance.provider });
  const now = ctx.clock.now();
  await assertUnderLimit(ctx.db, caller.tenantId, now);
  const ticket = randomBytes(32).toString("base64url");
  const expiresAt = new Date(now.getTime() + TICKET_TTL_MS);
  const sessionId = newId("term");
  await ctx.db.insert(terminalSessions).values({
    id: sessionId,
    ticketHash: sha256Hex(ticket),
    tenantId: caller.tenantId,
    instanceId: instance.id,
    keyId: caller.keyId,
    createdAt: now,
    expiresAt,
  });
  return { ticket, sessionId, expiresAt, instance };
}

const badTicket = () =>
  new ApiError(
    "UNAUTHORIZED",
    "terminal ticket is missing, already used or expired; ask for a new one with POST /api/v1/instances/{id}/terminal",
  );

/**
 * Claims a ticket for the WebSocket opening on `instanceId`: once only (the claim is one conditional update), before
 * it expires, while the key or session it was issued to is still valid, the instance still has a shell, and the
 * tenant is under its limit of open terminals (the tenant row is locked, so two replicas cannot both take the last).
 * A ticket for another instance is a 404, as that instance would be to its tenant.
 */
export async function claimTicket(ctx: AppContext, ticket: string, instanceId: string): Promise<ClaimedTicket> {
  if (!ticket) throw badTicket();
  const hash = sha256Hex(ticket);
  const [session] = await ctx.db.select().from(terminalSessions).where(eq(terminalSessions.ticketHash, hash));
  const now = ctx.clock.now();
  if (!session || session.openedAt || session.closedAt || session.expiresAt <= now) throw badTicket();
  if (session.instanceId !== instanceId) throw notFound("instance");
  return ctx.db.transaction(async (tx) => {
    await tx.select({ id: tenants.id }).from(tenants).where(eq(tenants.id, session.tenantId)).for("update");
    const [key] = await tx.select().from(apiKeys).where(eq(apiKeys.id, session.keyId));
    if (!key || key.revokedAt || (key.expiresAt && key.expiresAt <= now)) {
      throw new ApiError("UNAUTHORIZED", "the API key or console session this ticket was issued to has ended");
    }
    const [instance] = await tx.select().from(instances).where(eq(instances.id, instanceId));
    if (!instance || instance.tenantId !== session.tenantId) throw notFound("instance");
    const why = noShellReason(instance);
    if (why) throw conflict(why, { status: instance.status, provider: instance.provider });
    await assertUnderLimit(tx, session.tenantId, now);
    const [claimed] = await tx
      .update(terminalSessions)
      .set({ openedAt: now, seenAt: now })
      .where(
        and(
          eq(terminalSessions.id, session.id),
          isNull(terminalSessions.openedAt),
          isNull(terminalSessions.closedAt),
          gt(terminalSessions.expiresAt, now),
        ),
      )
      .returning({ id: terminalSessions.id });
    if (!claimed) throw badTicket();
    return { sessionId: session.id, tenantId: session.tenantId, keyId: session.keyId, instance };
  });
}

async function assertUnderLimit(db: Executor, tenantId: number, now: Date): Promise<void> {
  const [{ n }] = await db
    .select({ n: count() })
    .from(terminalSessions)
    .where(
      and(
        eq(terminalSessions.tenantId, tenantId),
        isNull(terminalSessions.closedAt),
        isNotNull(terminalSessions.openedAt),
        gt(terminalSessions.seenAt, new Date(now.getTime() - SEEN_WITHIN_MS)),
      ),
    );
  if (n >= MAX_OPEN_PER_TENANT) {
    throw conflict(
      `${n} web terminals are open for this account (at most ${MAX_OPEN_PER_TENANT}); close one before opening another`,
    );
  }
}
