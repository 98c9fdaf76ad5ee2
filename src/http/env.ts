import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppContext } from "../context.js";
import { type Actor, actorOf } from "../domain/audit/audit.js";
import type { Principal } from "../domain/identity/principal.js";
import { ApiError } from "../lib/errors.js";
import type { RequestScope } from "./access.js";
import { checkCursorList } from "./pagination.js";
import { validationError } from "./validation.js";

export interface Env {
  Variables: {
    ctx: AppContext;
    requestId: string;
    principal: Principal | undefined;
    /** A refused credential, thrown once the rate limiter has counted the attempt (see http/auth.ts). */
    authError: ApiError | undefined;
    /** The matched route's access rule and the tenant the request may see, set once by `enforceAccess`. */
    scope: RequestScope | undefined;
    /** Set when the client aborted its request body (http/validation.ts `RequestAborted`). */
    aborted: boolean | undefined;
  };
}

/**
 * A router whose validation failures become the envelope's BAD_REQUEST naming the field. An update (PATCH/PUT) whose
 * body sets nothing is refused here, once for every route, rather than reaching the database as an empty SET.
 */
export function router() {
  return new OpenAPIHono<Env>({
    defaultHook: (result, c) => {
      if (!result.success) throw validationError(result.error, result.target === "json" ? "body" : result.target);
      if (result.target === "query") checkCursorList((result.data as { cursor?: unknown }).cursor, c.req.routePath);
      if (result.target === "json" && (c.req.method === "PATCH" || c.req.method === "PUT") && isEmpty(result.data)) {
        throw new ApiError("BAD_REQUEST", "the request body names no field to change");
      }
    },
  });
}

const isEmpty = (data: unknown) =>
  typeof data === "object" &&
  data !== null &&
  !Array.isArray(data) &&
  Object.values(data).every((v) => v === undefined);
export type Router = ReturnType<typeof router>;

/** The authenticated caller; routes behind the auth middleware always have one. */
export function principal(c: Context<Env>): Principal {
  const p = c.get("principal");
  if (!p) throw new ApiError("UNAUTHORIZED", "missing API key: send X-API-Key or Authorization: Bearer");
  return p;
}

export const appCtx = (c: Context<Env>) => c.get("ctx");

/** Who this request acts as, for the audit trail (src/domain/audit): its key, tenant and request id. */
export const auditActor = (c: Context<Env>): Actor => actorOf(c.get("principal"), c.get("requestId") ?? null);
