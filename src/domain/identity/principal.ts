import { ApiError } from "../../lib/errors.js";

export const permissions = ["read", "write", "admin"] as const;
export type Permission = (typeof permissions)[number];

/** Areas a key can be limited to. `all` covers every area (seed 000's scopes). */
export const scopeAreas = [
  "all",
  "instances",
  "billing",
  "ssh-keys",
  "volumes",
  "webhooks",
  "waitlist",
  "jobs",
  "api-keys",
  "fleet",
  "tenants",
  "catalog",
] as const;
export type ScopeArea = (typeof scopeAreas)[number];

/** Who is calling: resolved once per request from the API key. */
export interface Principal {
  keyId: string;
  tenantId: number | null;
  /** Set for a node agent's credential: it reaches its own node and nothing else. */
  nodeId: number | null;
  scopes: ScopeArea[];
  permissions: Permission[];
  /** A console session (a person logged in to the web console), not an API key a program holds. */
  session?: boolean;
}

const rank: Record<Permission, number> = { read: 1, write: 2, admin: 3 };

export const isOperator = (p: Principal) => p.tenantId === null && p.nodeId === null;

function highest(p: Principal): number {
  return Math.max(0, ...p.permissions.map((x) => rank[x] ?? 0));
}

/**
 * Checks area and permission. `admin` implies `write` implies `read`. A node credential passes only where a route
 * explicitly allows nodes (access `node`), so it can never read tenants or billing through a scope check.
 */
export function authorize(p: Principal, area: ScopeArea, permission: Permission): void {
  if (p.nodeId !== null) throw new ApiError("FORBIDDEN", "a node agent credential cannot use this endpoint");
  if (!p.scopes.includes("all") && !p.scopes.includes(area)) {
    throw new ApiError("FORBIDDEN", `this API key lacks the '${area}' scope`);
  }
  if (highest(p) < rank[permission]) {
    throw new ApiError("FORBIDDEN", `this API key lacks the '${permission}' permission`);
  }
}

/** Operator-only endpoints (fleet, tenants, catalog management): a key with no tenant. */
export function requireOperator(p: Principal, permission: Permission): void {
  if (!isOperator(p)) {
    throw new ApiError("FORBIDDEN", `this endpoint needs an operator key with the '${permission}' permission`);
  }
  if (highest(p) < rank[permission]) {
    throw new ApiError("FORBIDDEN", `this API key lacks the '${permission}' permission`);
  }
}

/**
 * The tenant whose resources a request acts on: a tenant key's own tenant; an operator may name one
 * (`tenant_id`) to act on its behalf. Anything else is refused.
 */
export function actingTenant(p: Principal, requested?: number | null): number {
  if (p.tenantId !== null) {
    // Another tenant's id is answered as if it did not exist.
    if (requested != null && requested !== p.tenantId) throw new ApiError("NOT_FOUND", "tenant not found");
    return p.tenantId;
  }
  if (requested == null) throw new ApiError("BAD_REQUEST", "tenant_id is required for an operator key");
  return requested;
}
