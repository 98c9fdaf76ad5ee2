import { z } from "@hono/zod-openapi";
import { endSession } from "../../domain/identity/keys.js";
import { login, register } from "../../domain/identity/signup.js";
import { anyKey, createRoute, publicAccess } from "../../http/access.js";
import { appCtx, auditActor, principal, router } from "../../http/env.js";
import { commonErrors, envelope, errorResponses, jsonBody, jsonResponse, ok } from "../../http/envelope.js";
import { safeName } from "../../lib/schemas.js";
import { CreatedApiKey, keyView, RevokeMintedQuery, Tenant, tenantView } from "./schemas.js";

const Credentials = z
  .object({
    email: z.email().max(320),
    password: z.string().min(8, "password must be at least 8 characters").max(256),
    name: safeName(200).optional(),
  })
  .strict();

const Session = z.object({ tenant: Tenant, api_key: CreatedApiKey });

export const authRoutes = router();

authRoutes.openapi(
  createRoute({
    method: "post",
    path: "/auth/register",
    access: publicAccess,
    tags: ["Auth"],
    summary: "Sign up: creates an account (tenant), its first API key and the sign-up credit",
    request: jsonBody(Credentials.openapi("Register")),
    responses: {
      201: jsonResponse(envelope(Session), "Account created; `data.api_key.key` is shown once"),
      401: commonErrors[401],
      409: errorResponses[409],
    },
  }),
  async (c) => {
    const { tenant, apiKey } = await register(appCtx(c), c.req.valid("json"), auditActor(c));
    return ok(c, Session, { tenant: tenantView(tenant), api_key: keyView(apiKey) }, 201);
  },
);

authRoutes.openapi(
  createRoute({
    method: "post",
    path: "/auth/login",
    access: publicAccess,
    tags: ["Auth"],
    summary:
      "Log in with email and password: returns a console session token valid for 12 hours (not listed among API keys)",
    request: jsonBody(Credentials.omit({ name: true }).openapi("Login")),
    responses: { 200: jsonResponse(envelope(Session), "Logged in"), 401: commonErrors[401] },
  }),
  async (c) => {
    const { tenant, apiKey } = await login(appCtx(c), c.req.valid("json"), auditActor(c));
    return ok(c, Session, { tenant: tenantView(tenant), api_key: keyView(apiKey) }, 200);
  },
);

authRoutes.openapi(
  createRoute({
    method: "post",
    path: "/auth/logout",
    access: anyKey,
    tags: ["Auth"],
    summary:
      "Log out: ends the console session token presented (an API key is refused: revoke it instead); revoke_minted=true also revokes the API keys created from it",
    request: { query: RevokeMintedQuery },
    responses: { 204: { description: "Session ended" }, 409: errorResponses[409], ...commonErrors },
  }),
  async (c) => {
    await endSession(appCtx(c), principal(c).keyId, c.req.valid("query").revoke_minted === "true", auditActor(c));
    return c.body(null, 204);
  },
);
