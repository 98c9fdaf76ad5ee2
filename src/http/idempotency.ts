import { createCipheriv, createDecipheriv, createHmac, randomBytes, scrypt } from "node:crypto";
import { and, eq, lt, or, sql } from "drizzle-orm";
import type { MiddlewareHandler } from "hono";
import type { AppContext } from "../context.js";
import { idempotencyKeys } from "../db/schema/index.js";
import { ApiError } from "../lib/errors.js";
import { sha256Hex } from "../lib/secrets.js";
import { presentedKey } from "./auth.js";
import type { Env } from "./env.js";

/** A request still marked in flight after this long is taken to have died with its server; a retry may take over. */
const STALE_IN_FLIGHT_MS = 60_000;
/** How long a stored response is replayed; an older key is free to be used again. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/** About one request in this many also deletes expired keys, so no background loop is needed. */
const PRUNE_ONE_IN = 500;

/**
 * `Idempotency-Key` on POST and DELETE, stored in the database so it holds across restarts and replicas
 * (docs/adr/0003): the same key in flight → 409; completed → the stored response, byte for byte; reused with another
 * request → 422. Only successes are stored: an error (4xx or 5xx) changed nothing, so it releases the key and a
 * corrected retry with the same key runs again.
 *
 * Keys are scoped to the API key that sent them. Stored responses can hold secrets (a new API key is shown once), so
 * they are encrypted with a key derived from the caller's own API key, which the database holds only as a SHA-256.
 */
export function idempotencyMiddleware(): MiddlewareHandler<Env> {
  return async (c, next) => {
    const key = c.req.header("idempotency-key");
    if (key === undefined || (c.req.method !== "POST" && c.req.method !== "DELETE")) return next();
    if (!/^[\x21-\x7e]{1,255}$/.test(key)) {
      throw new ApiError("BAD_REQUEST", "Idempotency-Key must be 1 to 255 visible ASCII characters");
    }
    const ctx = c.get("ctx");
    const principal = c.get("principal");
    // Bytes, not text: a binary body must reach the route unchanged after being read here.
    const body = Buffer.from(await c.req.arrayBuffer());
    const request = Buffer.concat([Buffer.from(`${c.req.method} ${c.req.path}\n`), body]);
    const scope = principal
      ? scopeForKey(principal.keyId, presentedKey(c.req.raw.headers)!, key, request)
      : await scopeForAnonymous(key, request);
    const now = ctx.clock.now();
    if (Math.floor(Math.random() * PRUNE_ONE_IN) === 0) void pruneIdempotencyKeys(ctx).catch(() => {});

    const claimed = await ctx.db
      .insert(idempotencyKeys)
      .values({
        owner: scope.owner,
        key,
        method: c.req.method,
        path: c.req.path,
        requestHash: scope.requestHash,
        state: "in_flight",
        createdAt: now,
      })
      .onConflictDoNothing()
      .returning({ id: idempotencyKeys.id });
    let id = claimed[0]?.id;

    if (id === undefined) {
      const [existing] = await ctx.db
        .select()
        .from(idempotencyKeys)
        .where(and(eq(idempotencyKeys.owner, scope.owner), eq(idempotencyKeys.key, key)));
      if (!existing) {
        // It finished with a server error (and was released) between our insert and this read.
        throw new ApiError("CONFLICT", "a request with this Idempotency-Key was just being processed; retry shortly");
      }
      const expired = existing.createdAt.getTime() < now.getTime() - IDEMPOTENCY_TTL_MS;
      if (!expired && existing.requestHash !== scope.requestHash) {
        throw new ApiError(
          "UNPROCESSABLE",
          `Idempotency-Key '${key}' was already used for a different request (${existing.method} ${existing.path}); ` +
            "send the same request to get its response, or use a new key",
        );
      }
      if (!expired && existing.state === "done") {
        return new Response(open(scope.secret, existing.responseBody!), {
          status: existing.responseStatus!,
          headers: { "content-type": "application/json", "idempotent-replayed": "true" },
        });
      }
      // In flight: refuse, unless its server evidently died mid-request (or the stored key has expired).
      const takeover = await ctx.db
        .update(idempotencyKeys)
        .set({
          createdAt: now,
          state: "in_flight",
          requestHash: scope.requestHash,
          method: c.req.method,
          path: c.req.path,
          responseStatus: null,
          responseBody: null,
          completedAt: null,
        })
        .where(
          and(
            eq(idempotencyKeys.id, existing.id),
            or(
              lt(idempotencyKeys.createdAt, new Date(now.getTime() - IDEMPOTENCY_TTL_MS)),
              and(
                eq(idempotencyKeys.state, "in_flight"),
                lt(idempotencyKeys.createdAt, new Date(now.getTime() - STALE_IN_FLIGHT_MS)),
              ),
            ),
          ),
        )
        .returning({ id: idempotencyKeys.id });
      if (!takeover.length) {
        throw new ApiError("CONFLICT", "a request with this Idempotency-Key is still being processed; retry shortly");
      }
      id = takeover[0].id;
    }

    try {
      await next();
    } catch (error) {
      await release(ctx, id);
      throw error;
    }
    const status = c.res.status;
    if (status >= 400) {
      await release(ctx, id);
      return;
    }
    const responseBody = await c.res.clone().text();
    await ctx.db
      .update(idempotencyKeys)
      .set({
        state: "done",
        responseStatus: status,
        responseBody: seal(scope.secret, responseBody),
        completedAt: ctx.clock.now(),
      })
      .where(eq(idempotencyKeys.id, id));
  };
}

interface Scope {
  owner: string;
  requestHash: string;
  /** Key material for sealing the stored response; never stored. */
  secret: Buffer;
}

function scopeForKey(keyId: string, apiKey: string, key: string, request: Buffer): Scope {
  const owner = `k:${keyId}`;
  return {
    owner,
    requestHash: sha256Hex(request),
    secret: createHmac("sha256", apiKey).update(`gpuplane-idempotency\n${owner}\n${key}`).digest(),
  };
}

/**
 * Without an API key (sign-up, login) the request itself is the only secret, and it holds a password: derive both
 * the hash and the sealing key through scrypt so a stored row does not make the password cheap to guess. The scope
 * is the request, so two strangers picking the same Idempotency-Key never meet.
 */
async function scopeForAnonymous(key: string, request: Buffer): Promise<Scope> {
  const material = await new Promise<Buffer>((resolve, reject) =>
    scrypt(request, `gpuplane-idempotency\n${key}`, 32, { N: 1 << 14, r: 8, p: 1 }, (error, derived) =>
      error ? reject(error) : resolve(derived),
    ),
  );
  const requestHash = createHmac("sha256", material).update("request").digest("hex");
  return {
    owner: `anon:${requestHash.slice(0, 32)}`,
    requestHash,
    secret: createHmac("sha256", material).update("seal").digest(),
  };
}

/** AES-256-GCM: `v1.<iv>.<tag>.<ciphertext>` in base64url. */
function seal(secret: Buffer, text: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", secret, iv);
  const body = Buffer.concat([cipher.update(text, "utf8"), cipher.final()]);
  return ["v1", iv, cipher.getAuthTag(), body]
    .map((p) => (typeof p === "string" ? p : p.toString("base64url")))
    .join(".");
}

function open(secret: Buffer, stored: string): string {
  const [version, iv, tag, body] = stored.split(".");
  if (version !== "v1") throw new ApiError("CONFLICT", "the stored response for this Idempotency-Key is unreadable");
  const decipher = createDecipheriv("aes-256-gcm", secret, Buffer.from(iv, "base64url"));
  decipher.setAuthTag(Buffer.from(tag, "base64url"));
  return Buffer.concat([decipher.update(Buffer.from(body, "base64url")), decipher.final()]).toString("utf8");
}

async function release(ctx: AppContext, id: number) {
  await ctx.db.delete(idempotencyKeys).where(eq(idempotencyKeys.id, id));
}

/** Drops stored responses older than the retention window. */
export async function pruneIdempotencyKeys(ctx: Pick<AppContext, "db" | "clock">) {
  const cutoff = new Date(ctx.clock.now().getTime() - IDEMPOTENCY_TTL_MS);
  await ctx.db.delete(idempotencyKeys).where(sql`${idempotencyKeys.createdAt} < ${cutoff}`);
}
