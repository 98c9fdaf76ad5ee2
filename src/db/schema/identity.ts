import { boolean, index, integer, jsonb, pgTable, serial, text, uniqueIndex } from "drizzle-orm/pg-core";
import { createdAt, tstz } from "./columns.js";

/** A tenant is the seeds' user, account or tenant: it owns credits, quota, keys and every resource. */
export const tenants = pgTable(
  "tenants",
  {
    id: serial("id").primaryKey(),
    name: text("name").notNull(),
    /** Login identity for self-service sign-up; null for tenants an operator created without a login. */
    email: text("email"),
    passwordHash: text("password_hash"),
    contactEmail: text("contact_email"),
    gpuQuota: integer("gpu_quota").notNull().default(8),
    planTier: text("plan_tier").notNull().default("starter"),
    status: text("status").notNull().default("active"),
    /**
     * prepaid: pays from credits (balance gate, minimum balance, auto-stop); invoiced: runs on account, its usage
     * is invoiced and a negative balance is what it owes. Sign-up makes prepaid tenants, the operator invoiced ones.
     */
    billingMode: text("billing_mode").notNull().default("prepaid"),
    stripeCustomerId: text("stripe_customer_id"),
    /** When `billing.auto_stop_warning` went out; cleared when the balance covers the warning window again. */
    autoStopWarnedAt: tstz("auto_stop_warned_at"),
    createdAt: createdAt(),
    updatedAt: tstz("updated_at").notNull().defaultNow(),
  },
  (t) => [uniqueIndex("tenants_email_key").on(t.email)],
);

/**
 * API keys. Only the SHA-256 of the secret is stored. A key with no tenant is an operator-side key
 * (with `admin` it manages the fleet and every tenant); a key with a node id is a node agent's credential.
 */
export const apiKeys = pgTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    tenantId: integer("tenant_id").references(() => tenants.id, { onDelete: "cascade" }),
    nodeId: integer("node_id"),
    label: text("label").notNull(),
    /** The first characters of the secret, safe to show ("gpk_3fa9c1…"). */
    displayPrefix: text("display_prefix").notNull(),
    keyHash: text("key_hash").notNull(),
    scopes: text("scopes").array().notNull(),
    permissions: text("permissions").array().notNull(),
    createdAt: createdAt(),
    expiresAt: tstz("expires_at"),
    revokedAt: tstz("revoked_at"),
    lastUsedAt: tstz("last_used_at"),
    /** A console log-in's short-lived token: it expires and is not listed among the tenant's API keys. */
    session: boolean("session").notNull().default(false),
    /** The console session a key was created from; null for a key made otherwise (and for a session itself). */
    createdBySessionId: text("created_by_session_id"),
    /** The login email of the person whose console session created the key, or who logged in (a session row). */
    loginEmail: text("login_email"),
  },
  (t) => [
    uniqueIndex("api_keys_key_hash_key").on(t.keyHash),
    index("api_keys_tenant_idx").on(t.tenantId),
    index("api_keys_created_by_session_idx").on(t.createdBySessionId),
  ],
);

/** Stored responses for `Idempotency-Key`, shared by every replica. */
export const idempotencyKeys = pgTable(
  "idempotency_keys",
  {
    id: serial("id").primaryKey(),
    owner: text("owner").notNull(),
    key: text("key").notNull(),
    method: text("method").notNull(),
    path: text("path").notNull(),
    requestHash: text("request_hash").notNull(),
    state: text("state").notNull().default("in_flight"),
    responseStatus: integer("response_status"),
    responseBody: text("response_body"),
    createdAt: createdAt(),
    completedAt: tstz("completed_at"),
  },
  (t) => [uniqueIndex("idempotency_owner_key").on(t.owner, t.key), index("idempotency_created_idx").on(t.createdAt)],
);

/**
 * The audit trail: one row per operator or security-relevant write (keys, sessions, credits, prices, markups,
 * tenants, quotas, nodes, provider settings, images, webhooks, sign-up and log-in), appended in the write's own
 * transaction by `audit()` (src/domain/audit/), so a write that rolls back leaves no entry. `before`/`after` hold
 * the changed record's safe fields only: never a secret, hash or credential.
 */
export const auditLog = pgTable(
  "audit_log",
  {
    id: serial("id").primaryKey(),
    /** The tenant the write concerns (for a tenant's own entries); null for fleet- or catalog-wide writes. */
    tenantId: integer("tenant_id"),
    /** `operator`, `tenant`, `node`, `system` (a loop, the server's CLI) or `anonymous` (sign-up, log-in). */
    actorKind: text("actor_kind").notNull(),
    /** The API key or console session that made the request; null for the system and anonymous callers. */
    actorKeyId: text("actor_key_id"),
    /** The request's `X-Request-Id`; null for writes made outside a request. */
    requestId: text("request_id"),
    /** `<area>.<verb>`, e.g. `api_key.create`, `tenant.update`, `node.cordon`. */
    action: text("action").notNull(),
    /** What was written: `<kind>:<id>`, e.g. `api_key:key_…`, `tenant:4`, `node:7`. */
    target: text("target").notNull(),
    before: jsonb("before"),
    after: jsonb("after"),
    createdAt: createdAt(),
  },
  (t) => [
    index("audit_tenant_idx").on(t.tenantId, t.id),
    index("audit_action_idx").on(t.action, t.id),
    index("audit_target_idx").on(t.target, t.id),
  ],
);
