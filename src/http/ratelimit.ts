import type { Context, MiddlewareHandler } from "hono";
import type { Redis } from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import type { RateLimitClass } from "../config.js";
import type { Principal } from "../domain/identity/principal.js";
import { isOperator } from "../domain/identity/principal.js";
import { ApiError } from "../lib/errors.js";
import { type Access, type AccessTable, declaredRateClass } from "./access.js";
import type { Env } from "./env.js";

/**
 * Seed 000's endpoint classes: anonymous callers are `public`, node agents and operators `operator`; a tenant's
 * request is counted under its route's declared class (instance creation and actions declare theirs; see
 * http/access.ts), else billing, read or write; a console session's reads count under `console`.
 */
export function classify(access: Access | undefined, method: string, principal: Principal | undefined): RateLimitClass {
  if (!principal) return "public";
  if (principal.nodeId !== null || isOperator(principal)) return "operator";
  const declared = declaredRateClass(access, method) ?? "write";
  // A console session's reads (billing ones included) share the console class; its writes keep their own classes.
  if (principal.session && (declared === "read" || declared === "billing") && method === "GET") return "console";
  return declared;
}

export interface RateLimiters {
  consume(klass: RateLimitClass, owner: string): Promise<RateLimiterRes>;
  limit(klass: RateLimitClass): number;
}

/**
 * One limiter per class, in memory or shared through Redis (falling back to memory if Redis is unreachable, so an
 * outage loosens limits to per-replica rather than refusing traffic).
 */
export function createRateLimiters(
  limits: Record<RateLimitClass, number>,
  redis?: Redis,
  prefix = "gpuplane:",
): RateLimiters {
  const limiters = new Map<RateLimitClass, RateLimiterMemory | RateLimiterRedis>();
  for (const [klass, points] of Object.entries(limits) as [RateLimitClass, number][]) {
    const options = { keyPrefix: `${prefix}rl:${klass}`, points, duration: 60 };
    limiters.set(
      klass,
      redis
        ? new RateLimiterRedis({ ...options, storeClient: redis, insuranceLimiter: new RateLimiterMemory(options) })
        : new RateLimiterMemory(options),
    );
  }
  return {
    consume: (klass, owner) => limiters.get(klass)!.consume(owner),
    limit: (klass) => limits[klass],
  };
}

/**
 * The caller's address: the socket's peer, or X-Forwarded-For's first hop when GPUPLANE_TRUST_PROXY is on (trusting
 * it otherwise would let anyone pick a fresh address per request and escape the public limit).
 */
export function clientAddress(c: Context<Env>, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = c.req.header("x-forwarded-for")?.split(",")[0].trim();
    if (forwarded) return forwarded;
  }
  return (c.env as any)?.incoming?.socket?.remoteAddress ?? "unknown";
}

export function rateLimitMiddleware(
  limiters: RateLimiters,
  trustProxy: boolean,
  table: () => AccessTable,
): MiddlewareHandler<Env> {
  return async (c, next) => {
    const principal = c.get("principal");
    const klass = classify(table().lookup(c.req.method, c.req.path)?.access, c.req.method, principal);
    // Limits are per key owner: a tenant's keys share one budget; anonymous callers are counted per address.
    const owner = principal
      ? principal.tenantId !== null
        ? `t${principal.tenantId}`
        : `k${principal.keyId}`
      : `ip:${clientAddress(c, trustProxy)}`;
    const limit = limiters.limit(klass);
    let result: RateLimiterRes;
    try {
      result = await limiters.consume(klass, owner);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      const retryAfter = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      c.header("Retry-After", String(retryAfter));
      c.header("RateLimit-Limit", String(limit));
      c.header("RateLimit-Remaining", "0");
      c.header("RateLimit-Reset", String(retryAfter));
      throw new ApiError(
        "RATE_LIMITED",
        `rate limit of ${limit} requests per minute for ${klass.replace("_", " ")} exceeded; retry in ${retryAfter}s`,
      );
    }
    c.header("RateLimit-Limit", String(limit));
    c.header("RateLimit-Remaining", String(Math.max(0, result.remainingPoints)));
    c.header("RateLimit-Reset", String(Math.ceil(result.msBeforeNext / 1000)));
    await next();
  };
}
