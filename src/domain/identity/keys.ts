import { and, count, desc, eq, gt, isNull, lt, or, type Placeholder, sql } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import type { Db, Executor } from "../../db/client.js";
import { prepared } from "../../db/prepared.js";
import { apiKeys, tenants } from "../../db/schema/index.js";
import type { PageQuery } from "../../http/pagination.js";
import { paginateCounted } from "../../http/pagination.js";
import { ApiError, InvalidState, notFound } from "../../lib/errors.js";
import { newId } from "../../lib/ids.js";
import { newKeySecret, sha256Hex } from "../../lib/secrets.js";
import { type Actor, audit, systemActor } from "../audit/audit.js";
import type { Permission, Principal, ScopeArea } from "./principal.js";
import { isOperator } from "./principal.js";

export type ApiKeyRow = typeof apiKeys.$inferSelect;

export interface CreateKeyInput {
  label: string;
  tenantId: number | null;
  nodeId?: number | null;
  scopes?: ScopeArea[];
  permissions?: Permission[];
  expiresAt?: Date | null;
  /** A console session token (signup.ts login): never listed among API keys. */
  session?: boolean;
  /** The console session this key is created from (its principal's keyId), to tie the key to the person. */
  createdBySessionId?: string | null;
  /** The login email of that person (for a session row: who logged in). */
  loginEmail?: string | null;
}

/** Creates a key and returns its row with the secret, which is never retrievable again. */
export async function createKey(ctx: AppContext, tx: Executor, input: CreateKeyInput, secret?: string) {
  const key = secret ?? newKeySecret(ctx.config.keyPrefix);
  const [row] = await tx
    .insert(apiKeys)
    .values({
      id: newId("key"),
      tenantId: input.tenantId,
      nodeId: input.nodeId ?? null,
      label: input.label,
      displayPrefix: `${key.slice(0, Math.min(key.length - 4, ctx.config.keyPrefix.length + 6))}…`,
      keyHash: sha256Hex(key),
      scopes: input.scopes?.length ? [...new Set(input.scopes)] : ["all"],
      permissions: input.permissions?.length ? [...new Set(input.permissions)] : ["read", "write"],
      expiresAt: input.expiresAt ?? null,
      session: input.session ?? false,
      createdBySessionId: input.createdBySessionId ?? null,
      loginEmail: input.loginEmail ?? null,
      createdAt: ctx.clock.now(),
    })
    .returning();
  return { ...row, key };
}

/** A key's fields safe for the audit trail: its id and prefix, never its secret or hash. */
export const keySnapshot = (row: ApiKeyRow) => ({
  id: row.id,
  label: row.label,
  display_prefix: row.displayPrefix,
  tenant_id: row.tenantId,
  node_id: row.nodeId,
  scopes: row.scopes,
  permissions: row.permissions,
  expires_at: row.expiresAt,
  revoked_at: row.revokedAt,
  session: row.session,
  created_by_session_id: row.createdBySessionId,
  login_email: row.loginEmail,
});

/** `createKey` in its own transaction with its audit entry (`api_key.create`, or the action given). */
export function createKeyAudited(
  ctx: AppContext,
  actor: Actor,
  input: CreateKeyInput,
  options: { secret?: string; action?: string } = {},
) {
  return ctx.db.transaction(async (tx) => {
    const created = await createKey(ctx, tx, input, options.secret);
    await audit(tx, actor, {
      action: options.action ?? "api_key.create",
      target: `api_key:${created.id}`,
      tenantId: created.tenantId,
      after: keySnapshot(created),
    });
    return created;
  });
}

/**
 * What ties a key to the console session creating it: the session's id and the person's login email (the session
 * row's, or the tenant's login for a session opened before emails were recorded). Nothing for an API key caller.
 */
export async function sessionOrigin(
  ctx: AppContext,
  caller: Principal,
): Promise<Pick<CreateKeyInput, "createdBySessionId" | "loginEmail">> {
  if (!caller.session) return {};
  const [row] = await ctx.db
    .select({ loginEmail: apiKeys.loginEmail, tenantEmail: tenants.email })
    .from(apiKeys)
    .leftJoin(tenants, eq(tenants.id, apiKeys.tenantId))
    .where(eq(apiKeys.id, caller.keyId));
  return { createdBySessionId: caller.keyId, loginEmail: row?.loginEmail ?? row?.tenantEmail ?? null };
}

/**
 * Who may create which key: a tenant key with write on `api-keys` makes keys for its own tenant, never wider than
 * its own permissions; an operator admin key makes any key.
 */
export function checkKeyGrant(caller: Principal, input: CreateKeyInput): void {
  if (isOperator(caller)) {
    if (!caller.permissions.includes("admin"))
      throw new ApiError("FORBIDDEN", "only an admin key can create operator keys");
    return;
  }
  if (input.tenantId !== caller.tenantId) throw new ApiError("NOT_FOUND", "tenant not found");
  const wanted = input.permissions ?? ["read", "write"];
  if (wanted.includes("admin")) throw new ApiError("FORBIDDEN", "a tenant key cannot grant the 'admin' permission");
  const widerScopes = (input.scopes ?? ["all"]).filter(
    (s) => !caller.scopes.includes("all") && !caller.scopes.includes(s),
  );
  if (widerScopes.length)
    throw new ApiError("FORBIDDEN", `cannot grant scopes this key does not have: ${widerScopes.join(", ")}`);
}

export async function listKeys(ctx: AppContext, tenantId: number | null, query: PageQuery) {
  if (tenantId !== null) {
    // A tenant listing its keys is the hot path: prepared statements (first page, and after a cursor).
    return paginateCounted(
      query,
      (after, take) =>
        after === undefined
          ? prepared(ctx.db, "keys_first_page", tenantKeysPage(false)).execute({ tenant: tenantId, take })
          : prepared(ctx.db, "keys_next_page", tenantKeysPage(true)).execute({ tenant: tenantId, take, after }),
      async () => (await ctx.db.select({ n: count() }).from(apiKeys).where(tenantKeys(tenantId)))[0].n,
      "text",
    );
  }
  // An operator's own keys are those with neither tenant nor node; node credentials are listed by the fleet.
  const base = and(
    isNull(apiKeys.tenantId),
    isNull(apiKeys.nodeId),
    isNull(apiKeys.revokedAt),
    eq(apiKeys.session, false),
  );
  const total = sql<number>`(select count(*) from ${apiKeys} where ${base})`.mapWith(Number);
  return paginateCounted(
    query,
    (after, take) =>
      ctx.db
        .select({ row: apiKeys, total })
        .from(apiKeys)
        .where(and(base, after !== undefined ? lt(apiKeys.id, String(after)) : undefined))
        .orderBy(desc(apiKeys.id))
        .limit(take),
    async () => (await ctx.db.select({ n: count() }).from(apiKeys).where(base))[0].n,
    "text",
  );
}

// Console sessions are left out: they are log-ins, not keys the tenant manages.
const tenantKeys = (tenantId: number | Placeholder) =>
  and(eq(apiKeys.tenantId, tenantId as number), isNull(apiKeys.revokedAt), eq(apiKeys.session, false));

function tenantKeysPage(afterCursor: boolean) {
  return (db: Db, name: string) => {
    const base = tenantKeys(sql.placeholder("tenant"));
    const total = sql<number>`(select count(*) from ${apiKeys} where ${base})`.mapWith(Number);
    return db
      .select({ row: apiKeys, total })
      .from(apiKeys)
      .where(afterCursor ? and(base, lt(apiKeys.id, sql.placeholder("after"))) : base)
      .orderBy(desc(apiKeys.id))
      .limit(sql.placeholder("take"))
      .prepare(name);
  };
}

export async function getKey(ctx: AppContext, id: string, tenantId: number | null): Promise<ApiKeyRow> {
  const [row] = await ctx.db.select().from(apiKeys).where(eq(apiKeys.id, id));
  // A session is not an API key: it is ended with POST /auth/logout (endSession), not found here.
  if (!row || row.session || (tenantId !== null && row.tenantId !== tenantId)) throw notFound("API key");
  return row;
}

/**
 * How long an operator admin key must still have to live to count as the survivor when another is revoked: a key
 * that expires minutes later would leave the operator locked out as surely as none.
 */
export const ADMIN_KEY_SAFETY_WINDOW_MS = 24 * 60 * 60 * 1000;

/**
 * Revokes a key. Only an admin key can revoke a key that holds `admin`. The last operator admin key that is active
 * and not expiring within ADMIN_KEY_SAFETY_WINDOW_MS cannot be revoked: every call would then be 401 and only a new
 * key made on the server's machine (`gpuplane admin-key`) could recover. The active operator keys are locked first so
 * that two revocations at once cannot each count the other as the survivor.
 */
export async function revokeKey(
  ctx: AppContext,
  id: string,
  caller: Principal,
  tenantId: number | null,
  actor: Actor = systemActor,
) {
  const row = await getKey(ctx, id, tenantId);
  if (row.permissions.includes("admin") && !caller.permissions.includes("admin"))
    throw new ApiError("FORBIDDEN", "only an admin key can revoke a key with the 'admin' permission");
  if (row.revokedAt) return row;
  const updated = await ctx.db.transaction(async (tx) => {
    if (isOperatorAdminKey(row)) {
      const now = ctx.clock.now();
      const survivors = await tx
        .select({ id: apiKeys.id })
        .from(apiKeys)
        .where(activeOperatorAdminKeys(new Date(now.getTime() + ADMIN_KEY_SAFETY_WINDOW_MS)))
        .for("update");
      if (!survivors.some((k) => k.id !== id)) {
        throw new InvalidState(
          "this is the last active operator admin key that does not expire within 24 hours; create another one (POST /api/v1/api-keys, or `gpuplane admin-key` on the server) before revoking it",
        );
      }
    }
    const [done] = await tx
      .update(apiKeys)
      .set({ revokedAt: ctx.clock.now() })
      .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
      .returning();
    if (done) await audit(tx, actor, revocation("api_key.revoke", row, done));
    return done ?? row;
  });
  forgetVerifiedKeys(ctx);
  if (ctx.config.adminKey !== undefined && row.keyHash === sha256Hex(ctx.config.adminKey)) {
    ctx.log.warn(
      { key_id: row.id },
      "the GPUPLANE_ADMIN_KEY key was revoked: it stays revoked across restarts; remove it from the environment",
    );
  }
  return updated;
}

/**
 * Log-out: revokes the session token the caller presented; a real API key is left alone (409). With `revokeMinted`
 * the API keys created from this session are revoked too. Returns how many minted keys were revoked.
 */
export async function endSession(
  ctx: AppContext,
  keyId: string,
  revokeMinted = false,
  actor: Actor = systemActor,
): Promise<number> {
  const revoked = await ctx.db.transaction(async (tx) => {
    const ended = await tx
      .update(apiKeys)
      .set({ revokedAt: ctx.clock.now() })
      .where(and(eq(apiKeys.id, keyId), eq(apiKeys.session, true), isNull(apiKeys.revokedAt)))
      .returning();
    if (!ended.length)
      throw new ApiError(
        "CONFLICT",
        "this credential is an API key, not a console session: revoke it with DELETE /api/v1/api-keys/{id}",
      );
    const minted = revokeMinted ? await revokeMintedKeys(ctx, tx, keyId) : [];
    await audit(tx, actor, {
      ...revocation("session.logout", { ...ended[0], revokedAt: null }, ended[0]),
      after: { ...keySnapshot(ended[0]), revoked_key_ids: minted },
    });
    return minted.length;
  });
  forgetVerifiedKeys(ctx);
  return revoked;
}

/** Revokes the active API keys created from a console session; returns their ids. */
async function revokeMintedKeys(ctx: AppContext, tx: Executor, sessionId: string): Promise<string[]> {
  const done = await tx
    .update(apiKeys)
    .set({ revokedAt: ctx.clock.now() })
    .where(and(eq(apiKeys.createdBySessionId, sessionId), isNull(apiKeys.revokedAt)))
    .returning({ id: apiKeys.id });
  return done.map((k) => k.id);
}

/** The audit entry of a key or session revoked: `before` as it was, `after` revoked. */
const revocation = (action: string, before: ApiKeyRow, after: ApiKeyRow) => ({
  action,
  target: `${before.session ? "session" : "api_key"}:${before.id}`,
  tenantId: before.tenantId,
  before: keySnapshot(before),
  after: keySnapshot(after),
});

/** Console sessions still open (not revoked, not expired): a tenant's own, or every tenant's (null). */
export async function listSessions(ctx: AppContext, tenantId: number | null, query: PageQuery) {
  const base = and(
    eq(apiKeys.session, true),
    isNull(apiKeys.revokedAt),
    or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, ctx.clock.now())),
    tenantId !== null ? eq(apiKeys.tenantId, tenantId) : undefined,
  );
  const total = sql<number>`(select count(*) from ${apiKeys} where ${base})`.mapWith(Number);
  return paginateCounted(
    query,
    (after, take) =>
      ctx.db
        .select({ row: apiKeys, total })
        .from(apiKeys)
        .where(and(base, after !== undefined ? lt(apiKeys.id, String(after)) : undefined))
        .orderBy(desc(apiKeys.id))
        .limit(take),
    async () => (await ctx.db.select({ n: count() }).from(apiKeys).where(base))[0].n,
    "text",
  );
}

/**
 * Revokes a console session (a tenant its own, another's is 404; the operator any), at once on this replica (the
 * verified-key cache is cleared; other replicas within their cache TTL). With `revokeMinted`, the API keys created
 * from it are revoked in the same transaction. Revoking a session already ended answers it again, unchanged, but
 * still revokes what it minted when asked.
 */
export async function revokeSession(
  ctx: AppContext,
  id: string,
  tenantId: number | null,
  revokeMinted: boolean,
  actor: Actor = systemActor,
): Promise<{ session: ApiKeyRow; revokedKeys: number }> {
  const [row] = await ctx.db.select().from(apiKeys).where(eq(apiKeys.id, id));
  if (!row?.session || (tenantId !== null && row.tenantId !== tenantId)) throw notFound("session");
  const result = await ctx.db.transaction(async (tx) => {
    const [done] = await tx
      .update(apiKeys)
      .set({ revokedAt: ctx.clock.now() })
      .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
      .returning();
    const minted = revokeMinted ? await revokeMintedKeys(ctx, tx, id) : [];
    if (done || minted.length) {
      await audit(tx, actor, {
        ...revocation("session.revoke", row, done ?? row),
        after: { ...keySnapshot(done ?? row), revoked_key_ids: minted },
      });
    }
    return { session: done ?? row, revokedKeys: minted.length };
  });
  forgetVerifiedKeys(ctx);
  return result;
}

const isOperatorAdminKey = (row: ApiKeyRow) =>
  row.tenantId === null && row.nodeId === null && row.permissions.includes("admin");

/** Operator keys with admin that still let their holder in at `at`: not revoked, not expired by then. */
const activeOperatorAdminKeys = (at: Date) =>
  and(
    isNull(apiKeys.tenantId),
    isNull(apiKeys.nodeId),
    isNull(apiKeys.revokedAt),
    eq(apiKeys.session, false),
    sql`'admin' = any(${apiKeys.permissions})`,
    or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, at)),
  );

interface CachedKey {
  principal: Principal;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  cachedAt: number;
}

/**
 * A short-lived cache of verified keys keeps the database off the hot path of every request. Revocation and tenant
 * changes clear it in this server at once; another replica sees them within CACHE_TTL_MS (docs/adr/0002).
 * One cache per server (keyed by its context), so two servers in one process behave like two replicas.
 */
const CACHE_TTL_MS = 5_000;
const CACHE_MAX = 10_000;
const caches = new WeakMap<AppContext, Map<string, CachedKey>>();
const LAST_USED_RESOLUTION_MS = 60_000;

const lookups = new WeakMap<AppContext, Map<string, Promise<CachedKey>>>();
const allCaches = new Set<WeakRef<Map<string, CachedKey>>>();

function cacheOf(ctx: AppContext): Map<string, CachedKey> {
  let cache = caches.get(ctx);
  if (!cache) {
    cache = new Map();
    caches.set(ctx, cache);
    allCaches.add(new WeakRef(cache));
  }
  return cache;
}

/** Every server's cache in this process; prefer `forgetVerifiedKeys(ctx)`, which clears only the caller's server. */
export const keyCache = {
  clear(): void {
    for (const ref of allCaches) {
      const cache = ref.deref();
      if (cache) cache.clear();
      else allCaches.delete(ref);
    }
  },
};

/** Drops this server's verified keys: call after revoking a key or changing a tenant's status. */
export function forgetVerifiedKeys(ctx: AppContext): void {
  caches.get(ctx)?.clear();
  lookups.get(ctx)?.clear();
}

/** Resolves a presented secret to its principal, or throws 401 with a reason that does not leak which keys exist. */
export async function authenticate(ctx: AppContext, secret: string): Promise<Principal> {
  const hash = sha256Hex(secret);
  const nowMs = Date.now(); // the cache's own age, in this process's time, not the domain clock
  const cache = cacheOf(ctx);
  let inFlight = lookups.get(ctx);
  if (!inFlight) {
    inFlight = new Map();
    lookups.set(ctx, inFlight);
  }
  let entry = cache.get(hash);
  if (!entry || nowMs - entry.cachedAt > CACHE_TTL_MS) {
    // Single flight: when an entry expires under load, concurrent requests with the key share one lookup.
    let loading = inFlight.get(hash);
    if (!loading) {
      loading = loadKey(ctx, hash, nowMs).finally(() => inFlight.delete(hash));
      inFlight.set(hash, loading);
    }
    entry = await loading;
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
    cache.set(hash, entry);
  }
  const now = ctx.clock.now();
  if (entry.expiresAt && entry.expiresAt <= now) throw new ApiError("UNAUTHORIZED", "API key has expired");
  if (!entry.lastUsedAt || now.getTime() - entry.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    // Last-used time is kept to the minute: one write per key per minute, not one per request.
    entry.lastUsedAt = now;
    ctx.db
      .update(apiKeys)
      .set({ lastUsedAt: now })
      .where(eq(apiKeys.keyHash, hash))
      .catch((error) => ctx.log.warn({ err: error }, "could not record key last use"));
  }
  return entry.principal;
}

async function loadKey(ctx: AppContext, hash: string, nowMs: number): Promise<CachedKey> {
  const [row] = await ctx.db
    .select({ key: apiKeys, tenantStatus: tenants.status })
    .from(apiKeys)
    .leftJoin(tenants, eq(tenants.id, apiKeys.tenantId))
    .where(eq(apiKeys.keyHash, hash));
  if (!row || row.key.revokedAt) throw new ApiError("UNAUTHORIZED", "invalid API key");
  if (row.key.tenantId !== null && row.tenantStatus !== "active") {
    throw new ApiError("UNAUTHORIZED", "this API key's tenant is inactive");
  }
  const entry: CachedKey = {
    principal: {
      keyId: row.key.id,
      tenantId: row.key.tenantId,
      nodeId: row.key.nodeId,
      scopes: row.key.scopes as ScopeArea[],
      permissions: row.key.permissions as Permission[],
      session: row.key.session,
    },
    expiresAt: row.key.expiresAt,
    lastUsedAt: row.key.lastUsedAt,
    cachedAt: nowMs,
  };
  return entry;
}

/**
 * Makes sure the operator can get in, idempotently, at every boot. With GPUPLANE_ADMIN_KEY: a key that exists is left
 * alone if active and re-activated if it only expired; a key that was revoked stays revoked (its revocation is in the
 * database, so a leaked bootstrap key cannot come back with a restart) and an error says how to recover
 * (`gpuplane admin-key` on the server's machine). Otherwise, only on a database with no active operator admin key,
 * GPUPLANE_ADMIN_KEY is registered, or a key generated.
 * Returns the generated secret (to print once), or undefined when none was generated.
 */
export async function bootstrapOperatorKey(ctx: AppContext): Promise<string | undefined> {
  const secret = ctx.config.adminKey;
  if (secret !== undefined && secret.length < 16) throw new Error("GPUPLANE_ADMIN_KEY must be at least 16 characters");
  return (
    (await ctx.database.tryWithLock("gpuplane:bootstrap-operator", async () => {
      if (secret !== undefined && (await reactivateOperatorKey(ctx, secret))) return undefined;
      const [existing] = await ctx.db
        .select({ id: apiKeys.id })
        .from(apiKeys)
        .where(activeOperatorAdminKeys(ctx.clock.now()))
        .limit(1);
      if (existing) return undefined;
      const created = await issueOperatorKey(ctx, "operator (bootstrap)", secret);
      return secret ? undefined : created.key;
    })) ?? undefined
  );
}

/** A new operator key with every permission (what `gpuplane admin-key` prints), recorded as `admin_key.issue`. */
export function issueOperatorKey(ctx: AppContext, label: string, secret?: string) {
  return createKeyAudited(
    ctx,
    systemActor,
    { label, tenantId: null, scopes: ["all"], permissions: ["read", "write", "admin"] },
    { secret, action: "admin_key.issue" },
  );
}

/**
 * If `secret` is already a key: an expired one becomes a usable operator admin key again, a revoked one is left
 * revoked. False if it is not a key yet.
 */
async function reactivateOperatorKey(ctx: AppContext, secret: string): Promise<boolean> {
  const [row] = await ctx.db
    .select()
    .from(apiKeys)
    .where(eq(apiKeys.keyHash, sha256Hex(secret)));
  if (!row) return false;
  if (row.tenantId !== null || row.nodeId !== null) {
    throw new Error("GPUPLANE_ADMIN_KEY is already a tenant's or a node's key; choose another secret");
  }
  if (row.revokedAt !== null) {
    ctx.log.error(
      { key_id: row.id, revoked_at: row.revokedAt.toISOString() },
      "GPUPLANE_ADMIN_KEY was revoked and is not honoured: remove it from the environment; to recover operator access run `gpuplane admin-key` on this machine",
    );
    return true;
  }
  const now = ctx.clock.now();
  const usable = row.expiresAt === null || row.expiresAt > now;
  if (usable && row.permissions.includes("admin")) return true;
  await ctx.db.transaction(async (tx) => {
    const [after] = await tx
      .update(apiKeys)
      .set({ expiresAt: null, scopes: ["all"], permissions: ["read", "write", "admin"] })
      .where(eq(apiKeys.id, row.id))
      .returning();
    await audit(tx, systemActor, {
      action: "admin_key.reactivate",
      target: `api_key:${row.id}`,
      tenantId: null,
      before: keySnapshot(row),
      after: keySnapshot(after),
    });
  });
  forgetVerifiedKeys(ctx);
  ctx.log.warn({ key_id: row.id }, "GPUPLANE_ADMIN_KEY had expired: re-activated as an operator admin key");
  return true;
}
