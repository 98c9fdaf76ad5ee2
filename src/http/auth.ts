import type { MiddlewareHandler } from "hono";
import { authenticate } from "../domain/identity/keys.js";
import { ApiError } from "../lib/errors.js";
import type { Env } from "./env.js";

/** Reads `X-API-Key: <key>` or `Authorization: Bearer <key>`. */
export function presentedKey(headers: { get(name: string): string | null | undefined }): string | undefined {
  const direct = headers.get("x-api-key")?.trim();
  if (direct) return direct;
  const authorization = headers.get("authorization");
  if (!authorization) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match) throw new ApiError("UNAUTHORIZED", "Authorization header must be 'Bearer <key>'");
  return match[1];
}

/**
 * Resolves the caller. Public paths (sign-up, login, the public catalog) work without a key but still identify a
 * caller who sends one; every other path needs a valid key.
 *
 * A refusal is not thrown here but parked in `authError` and thrown by `rejectUnauthenticated` after the rate
 * limiter, so that a flood of bad keys is limited (per address, as a public caller) before it reaches the database.
 */
export function authMiddleware(isPublic: (method: string, path: string) => boolean): MiddlewareHandler<Env> {
  return async (c, next) => {
    try {
      const key = presentedKey(c.req.raw.headers);
      if (key) {
        c.set("principal", await authenticate(c.get("ctx"), key));
      } else if (!isPublic(c.req.method, c.req.path)) {
        throw new ApiError("UNAUTHORIZED", "missing API key: send X-API-Key or Authorization: Bearer");
      }
    } catch (error) {
      if (!(error instanceof ApiError) || error.code !== "UNAUTHORIZED") throw error;
      c.set("authError", error);
    }
    await next();
  };
}

export function rejectUnauthenticated(): MiddlewareHandler<Env> {
  return async (c, next) => {
    const error = c.get("authError");
    if (error) throw error;
    await next();
  };
}
