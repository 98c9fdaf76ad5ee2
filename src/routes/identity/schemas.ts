import { z } from "@hono/zod-openapi";
import type { ApiKeyRow } from "../../domain/identity/keys.js";
import { permissions, scopeAreas } from "../../domain/identity/principal.js";
import { billingModes, planTiers, type TenantRow, tenantStatuses } from "../../domain/identity/tenants.js";
import { int32, isoDate, safeName, urlInt } from "../../lib/schemas.js";

export const Tenant = z
  .object({
    id: z.number().int(),
    name: z.string(),
    gpu_quota: z.number().int(),
    contact_email: z.string().nullable(),
    plan_tier: z.enum(planTiers),
    status: z.enum(tenantStatuses),
    billing_mode: z.enum(billingModes),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Tenant");

export const tenantView = (t: TenantRow) => ({
  id: t.id,
  name: t.name,
  gpu_quota: t.gpuQuota,
  contact_email: t.contactEmail,
  plan_tier: t.planTier,
  status: t.status,
  billing_mode: t.billingMode,
  created_at: t.createdAt.toISOString(),
  updated_at: t.updatedAt.toISOString(),
});

export const ApiKey = z
  .object({
    id: z.string(),
    label: z.string(),
    prefix: z.string().openapi({ description: "The first characters of the key, for recognising it" }),
    tenant_id: z.number().int().nullable(),
    node_id: z.number().int().nullable(),
    scopes: z.array(z.string()),
    permissions: z.array(z.string()),
    created_at: z.string(),
    expires_at: z.string().nullable(),
    last_used_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
    created_by_session_id: z.string().nullable().openapi({
      description: "The console session this key was created from (a person logged in), or null",
    }),
    login_email: z.string().nullable().openapi({ description: "The login email of the person whose session made it" }),
  })
  .openapi("ApiKey");

export const CreatedApiKey = ApiKey.extend({
  key: z.string().openapi({ description: "The secret. Shown once; only its SHA-256 is stored." }),
}).openapi("CreatedApiKey");

export const keyView = (k: ApiKeyRow & { key?: string }) => ({
  id: k.id,
  label: k.label,
  prefix: k.displayPrefix,
  tenant_id: k.tenantId,
  node_id: k.nodeId,
  scopes: k.scopes,
  permissions: k.permissions,
  created_at: k.createdAt.toISOString(),
  expires_at: k.expiresAt?.toISOString() ?? null,
  last_used_at: k.lastUsedAt?.toISOString() ?? null,
  revoked_at: k.revokedAt?.toISOString() ?? null,
  created_by_session_id: k.createdBySessionId,
  login_email: k.loginEmail,
  ...(k.key ? { key: k.key } : {}),
});

export const Session = z
  .object({
    id: z.string(),
    tenant_id: z.number().int().nullable(),
    prefix: z.string().openapi({ description: "The first characters of the session token" }),
    login_email: z.string().nullable().openapi({ description: "Who logged in" }),
    created_at: z.string(),
    expires_at: z.string().nullable(),
    last_used_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
  })
  .openapi("Session");

export const sessionView = (k: ApiKeyRow) => ({
  id: k.id,
  tenant_id: k.tenantId,
  prefix: k.displayPrefix,
  login_email: k.loginEmail,
  created_at: k.createdAt.toISOString(),
  expires_at: k.expiresAt?.toISOString() ?? null,
  last_used_at: k.lastUsedAt?.toISOString() ?? null,
  revoked_at: k.revokedAt?.toISOString() ?? null,
});

export const RevokeMintedQuery = z.object({
  revoke_minted: z.enum(["true", "false"]).optional().openapi({
    description: "true: also revoke the API keys created from this session",
  }),
});

export const CreateKeyBody = z
  .object({
    label: safeName(200),
    tenant_id: int32().optional(),
    permissions: z
      .array(z.enum(permissions))
      .min(1)
      .optional()
      .openapi({ example: ["read", "write"] }),
    scopes: z
      .array(z.enum(scopeAreas))
      .min(1)
      .optional()
      .openapi({ example: ["all"] }),
    expires_at: isoDate().optional(),
  })
  .strict()
  .openapi("CreateApiKey");

export const TenantBody = z
  .object({
    name: safeName(200),
    gpu_quota: z.number().int().min(1).max(1_000_000),
    contact_email: z.email().max(320).optional(),
    plan_tier: z.enum(planTiers).optional(),
    status: z.enum(tenantStatuses).optional(),
    billing_mode: z.enum(billingModes).optional().openapi({
      description: "prepaid: pays from credits (minimum balance, auto-stop); invoiced (default here): on account",
    }),
  })
  .strict()
  .openapi("CreateTenant");

export const TenantPatch = TenantBody.partial().strict().openapi("UpdateTenant");

export const IdParam = z.object({
  id: urlInt().openapi({ param: { name: "id", in: "path" } }),
});
