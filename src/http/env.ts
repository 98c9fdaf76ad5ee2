import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppContext } from "../context.js";
import type { Principal } from "../domain/identity/principal.js";
import { ApiError } from "../lib/errors.js";
import { validationError } from "./validation.js";

export interface Env {
  Variables: {
    ctx: AppContext;
    requestId: string;
    principal: Principal | undefined;
    /** A refused credential, thrown once the rate limiter has counted the attempt (see http/auth.ts). */
    authError: ApiError | undefined;
  };
}

/** A router whose validation failures become the envelope's BAD_REQUEST naming the field. */
export function router() {
  return new OpenAPIHono<Env>({
    defaultHook: (result, _c) => {
      if (!result.success) throw validationError(result.error, result.target === "json" ? "body" : result.target);
    },
  });
}
export type Router = ReturnType<typeof router>;

/** The authenticated caller; routes behind the auth middleware always have one. */
export function principal(c: Context<Env>): Principal {
  const p = c.get("principal");
  if (!p) throw new ApiError("UNAUTHORIZED", "missing API key: send X-API-Key or Authorization: Bearer");
  return p;
}

export const appCtx = (c: Context<Env>) => c.get("ctx");
