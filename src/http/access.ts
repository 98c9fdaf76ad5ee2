import { createRoute as baseCreateRoute, type RouteConfig, z } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import type { RateLimitClass } from "../config.js";
import {
  actingTenant,
  authorize,
  isOperator,
  type Permission,
  type Principal,
  requireOperator,
  type ScopeArea,
} from "../domain/identity/principal.js";
import { ApiError } from "../lib/errors.js";
import type { Env } from "./env.js";
import { commonErrors } from "./envelope.js";

/**
 * Who may call a route, declared once in its `createRoute` (below). The auth middleware, the rate limiter and the
 * OpenAPI document's `security` all read this one declaration.
 *
 * - `public`: no key needed (a key, when sent, still identifies the caller);
 * - `tenant`: a tenant key holding `scope` with `permission`, or an operator key (which acts for any tenant);
 * - `operator`: an operator key (no tenant) with `permission`;
 * - `node`: a node agent's own credential (the handler checks it is for that node) or an operator key with write;
 * - `key`: any valid key (tenant, operator or node), for routes about the caller itself.
 *
 * `rate` overrides the endpoint class the rate limiter counts the route under (seed 000's table).
 */
export type Access = (
  | { auth: "public" }
  | { auth: "tenant"; scope: ScopeArea; permission: Permission }
  | { auth: "operator"; permission: Permission }
  | { auth: "node" }
  | { auth: "key" }
) & { rate?: RateLimitClass };

export const publicAccess: Access = { auth: "public" };
export const tenant = (scope: ScopeArea, permission: Permission, rate?: RateLimitClass): Access => ({
  auth: "tenant",
  scope,
  permission,
  ...(rate && { rate }),
});
export const operator = (permission: Permission): Access => ({ auth: "operator", permission });
export const nodeAgent: Access = { auth: "node" };
export const anyKey: Access = { auth: "key" };

/** The OpenAPI extension field the declaration travels in, so /openapi.json shows it too. */
export const ACCESS_FIELD = "x-gpuplane-access";

/**
 * `createRoute` with its access rule. A route made with the library's own `createRoute` (no declaration) fails
 * closed: it needs a tenant or operator key, and the every-operation test names it. The error answers the access
 * rule and the validator give (400, 429; 401 and 403 unless public) are declared here, once, for every route.
 */
export function createRoute<P extends string, R extends Omit<RouteConfig, "path"> & { path: P; access: Access }>(
  config: R,
) {
  const { access, ...rest } = config;
  const implied = {
    400: commonErrors[400],
    429: commonErrors[429],
    ...(access.auth !== "public" && { 401: commonErrors[401], 403: commonErrors[403] }),
  };
  return baseCreateRoute({
    ...rest,
    request: { ...rest.request, query: strictQuery(rest.request?.query) },
    responses: { ...implied, ...rest.responses },
    ...(access.auth === "public" && { security: [] }),
    [ACCESS_FIELD]: access,
  } as unknown as Omit<R, "access">);
}

/**
 * Query parameters are validated like bodies: one the route does not declare is a 400 naming it, rather than a filter
 * silently ignored (`?tenant_id=4` once listed every tenant's instances). A route that declares no query gets an
 * empty one, so any parameter sent to it is refused too.
 */
function strictQuery(query: unknown) {
  if (query === undefined) return z.object({}).strict();
  if (query instanceof z.ZodObject) return query.strict();
  return query as z.ZodObject;
}

interface Entry {
  method: string;
  pattern: RegExp;
  access: Access | undefined;
  path: string;
}

/** Method + path → the declaration of the route Hono will dispatch to (the first registered that matches). */
export class AccessTable {
  private entries: Entry[] = [];

  add(method: string, path: string, access: Access | undefined) {
    const source = path.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}/]+\}/g, "[^/]+");
    this.entries.push({ method: method.toUpperCase(), pattern: new RegExp(`^${source}/?$`), access, path });
  }

  /** Reads every route's declaration from an OpenAPIHono registry (after its routes are mounted). */
  static fromRegistry(definitions: readonly { type: string; route?: Record<string, unknown> }[]): AccessTable {
    const table = new AccessTable();
    for (const d of definitions) {
      if (d.type !== "route" || !d.route) continue;
      table.add(String(d.route.method), String(d.route.path), d.route[ACCESS_FIELD] as Access | undefined);
    }
    return table;
  }

  lookup(method: string, path: string): Entry | undefined {
    const m = method === "HEAD" ? "GET" : method;
    return this.entries.find((e) => e.method === m && e.pattern.test(path));
  }

  /** Every operation without a declaration (what the every-operation test lists). */
  undeclared(): string[] {
    return this.entries.filter((e) => !e.access).map((e) => `${e.method} ${e.path}`);
  }
}

/** What a request may act on, computed once by `enforceAccess`: one tenant, or every tenant (an operator). */
export interface RequestScope {
  access: Access | undefined;
  /** The caller's own tenant; null for an operator (who may see every tenant) or an anonymous caller. */
  tenantId: number | null;
}

/** Is this route public (for the auth middleware: a missing key is fine)? */
export const isPublicRoute = (table: () => AccessTable, method: string, path: string) =>
  table().lookup(method, path)?.access?.auth === "public";

/**
 * Enforces the matched route's declaration after the caller is known and counted by the rate limiter, and records
 * the request's tenant scope. A route without a declaration needs a tenant or operator key (fails closed).
 */
export function enforceAccess(table: () => AccessTable): MiddlewareHandler<Env> {
  return async (c, next) => {
    const access = table().lookup(c.req.method, c.req.path)?.access;
    const p = c.get("principal");
    if (access?.auth !== "public") {
      if (!p) throw new ApiError("UNAUTHORIZED", "missing API key: send X-API-Key or Authorization: Bearer");
      check(p, access);
    }
    c.set("scope", { access, tenantId: p?.tenantId ?? null });
    await next();
  };
}

function check(p: Principal, access: Access | undefined): void {
  if (!access) {
    if (p.nodeId !== null) throw new ApiError("FORBIDDEN", "a node agent credential cannot use this endpoint");
    return;
  }
  if (access.auth === "tenant") authorize(p, access.scope, access.permission);
  else if (access.auth === "operator") requireOperator(p, access.permission);
  else if (access.auth === "node" && p.nodeId === null) requireOperator(p, "write");
}

/** The rate-limit class of a declared route, for callers the declaration does not already place. */
export function declaredRateClass(access: Access | undefined, method: string): RateLimitClass | undefined {
  if (access?.rate) return access.rate;
  if (access?.auth === "tenant" && access.scope === "billing") return "billing";
  return method === "GET" || method === "HEAD" ? "read" : "write";
}

/**
 * The tenant whose resources this request may see: the caller's own, or null for an operator (every tenant).
 * Domain reads filter by it, so another tenant's resource is a 404.
 */
export function tenantScope(c: Context<Env>): number | null {
  return c.get("scope")?.tenantId ?? null;
}

/**
 * The one tenant a write acts for: a tenant key's own (naming another is a 404); an operator must name one
 * (`tenant_id`), else 400.
 */
export function actingFor(c: Context<Env>, requested?: number | null): number {
  const p = c.get("principal");
  if (!p) throw new ApiError("UNAUTHORIZED", "missing API key: send X-API-Key or Authorization: Bearer");
  return actingTenant(p, requested);
}

/**
 * The tenant a list is filtered to: a tenant key's own (naming another is a 404); for an operator the one it names,
 * or null for every tenant.
 */
export function listTenant(c: Context<Env>, requested?: number | null): number | null {
  const p = c.get("principal");
  if (p && isOperator(p)) return requested ?? null;
  return actingFor(c, requested);
}
