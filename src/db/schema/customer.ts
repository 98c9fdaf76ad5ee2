import { sql } from "drizzle-orm";
import { index, integer, jsonb, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { createdAt, micros, tstz } from "./columns.js";
import { tenants } from "./identity.js";

export const sshKeys = pgTable(
  "ssh_keys",
  {
    id: text("id").primaryKey(),
    tenantId: integer("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    publicKey: text("public_key").notNull(),
    keyType: text("key_type").notNull(),
    bits: integer("bits"),
    fingerprint: text("fingerprint").notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("ssh_keys_tenant_fingerprint").on(t.tenantId, t.fingerprint)],
);

/**
 * One record for the 000 seed's instance and the 001 seed's deployment.
 * Lifecycle: ordered → provisioning → running ⇄ (stopping →) stopped → deleting → deleted, and failed.
 */
export const instances = pgTable(
  "instances",
  {
    id: text("id").primaryKey(),
    tenantId: integer("tenant_id")
      .notNull()
      .references(() => tenants.id),
    name: text("name").notNull(),
    instanceTypeId: text("instance_type_id").notNull(),
    /** The id the customer asked with ("GPU.H100.1x" or "1H100.80S.30V"), echoed back. */
    requestedType: text("requested_type").notNull(),
    imageId: text("image_id").notNull(),
    regionId: text("region_id").notNull(),
    gpuCount: integer("gpu_count").notNull(),
    gpuModel: text("gpu_model").notNull(),
    /** Price and granularity captured at creation, so a later catalog change never reprices a running instance. */
    pricePerHourMicros: micros("price_per_hour_micros").notNull(),
    billingGranularitySeconds: integer("billing_granularity_seconds").notNull(),
    minimumChargeMicros: micros("minimum_charge_micros").notNull().default(sql`0`),
    /**
     * What a stopped instance keeps costing because its cloud keeps charging for it (an upstream's billing rule,
     * copied at launch): `full` keeps its run open at the full price until it is deleted; null or `none`: nothing.
     */
    billedWhileStopped: text("billed_while_stopped"),
    provider: text("provider").notNull(), // "fleet" | "simulator"
    providerRef: text("provider_ref"),
    nodeId: integer("node_id"),
    status: text("status").notNull(),
    statusReason: text("status_reason"),
    ipAddress: text("ip_address"),
    sshPort: integer("ssh_port"),
    sshUser: text("ssh_user"),
    sshKeyIds: text("ssh_key_ids").array().notNull(),
    sshPublicKeys: text("ssh_public_keys").array().notNull(),
    /**
     * The customer's own OCI image reference (bring your own image), allowed by the operator's registry policy; null:
     * the catalog image `image_id`. With it set, `image_id` holds the same reference.
     */
    imageRef: text("image_ref"),
    /** Environment variables for the container; a `secret` entry's value is write-only (never in an API answer). */
    env: jsonb("env").$type<ContainerEnvVar[]>().notNull().default([]),
    /** The start command (argv) run in the container beside SSH; null: none. */
    command: text("command").array(),
    /** Container disk size asked for (GB), within the instance type's; null: the type's. */
    diskGb: integer("disk_gb"),
    /** Ports to expose, as declared. */
    ports: jsonb("ports").$type<DeclaredPort[]>().notNull().default([]),
    /** Where each declared port answers, as the agent or the cloud reported it once running. */
    portMappings: jsonb("port_mappings").$type<PortMapping[]>().notNull().default([]),
    createdAt: createdAt(),
    updatedAt: tstz("updated_at").notNull().defaultNow(),
    /** Start of the current running period (null while not running). */
    runningSince: tstz("running_since"),
    /** Metering has charged this instance up to here. */
    meteredUntil: tstz("metered_until"),
    stoppedAt: tstz("stopped_at"),
    deletedAt: tstz("deleted_at"),
  },
  (t) => [
    index("instances_tenant_idx").on(t.tenantId, t.id),
    index("instances_status_idx").on(t.status),
    index("instances_node_idx").on(t.nodeId),
  ],
);

export interface ContainerEnvVar {
  name: string;
  value: string;
  secret: boolean;
}
export interface DeclaredPort {
  port: number;
  protocol: "http" | "tcp";
}
export interface PortMapping extends DeclaredPort {
  /** The address the port answers on: the node's or the cloud's public IP, or a proxy host. */
  host: string;
  hostPort: number;
  /** An HTTPS URL where the cloud proxies the port (RunPod's `<pod>-<port>.proxy.runpod.net`), else null. */
  url?: string | null;
}

/** A tenant's saved launch settings (own image, env, command, disk, ports), reusable for new instances. */
export const launchTemplates = pgTable(
  "launch_templates",
  {
    id: text("id").primaryKey(),
    tenantId: integer("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    /** An own OCI image reference (checked against the registry policy), or else a catalog image slug: one is set. */
    image: text("image"),
    templateSlug: text("template_slug"),
    instanceType: text("instance_type"),
    env: jsonb("env").$type<ContainerEnvVar[]>().notNull().default([]),
    command: text("command").array(),
    diskGb: integer("disk_gb"),
    ports: jsonb("ports").$type<DeclaredPort[]>().notNull().default([]),
    createdAt: createdAt(),
    updatedAt: tstz("updated_at").notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("launch_templates_tenant_name").on(t.tenantId, t.name),
    index("launch_templates_tenant_idx").on(t.tenantId, t.id),
  ],
);

export const volumes = pgTable(
  "volumes",
  {
    id: text("id").primaryKey(),
    tenantId: integer("tenant_id")
      .notNull()
      .references(() => tenants.id),
    name: text("name").notNull(),
    sizeGb: integer("size_gb").notNull(),
    type: text("type").notNull(), // "nvme" | "hdd"
    regionId: text("region_id").notNull(),
    status: text("status").notNull(), // available | attached | deleted
    instanceId: text("instance_id"),
    pricePerGbMonthMicros: micros("price_per_gb_month_micros").notNull(),
    meteredUntil: tstz("metered_until"),
    /** A resold cloud's copy of the volume (Verda block storage): the cloud and its id there; null until one exists. */
    upstreamProvider: text("upstream_provider"),
    upstreamRef: text("upstream_ref"),
    createdAt: createdAt(),
    deletedAt: tstz("deleted_at"),
  },
  (t) => [index("volumes_tenant_idx").on(t.tenantId, t.id), index("volumes_instance_idx").on(t.instanceId)],
);

export const waitlistEntries = pgTable(
  "waitlist_entries",
  {
    id: text("id").primaryKey(),
    tenantId: integer("tenant_id")
      .notNull()
      .references(() => tenants.id),
    instanceTypeId: text("instance_type_id").notNull(),
    regionId: text("region_id").notNull(),
    /** The id the customer asked with (plan id or cluster type), echoed back. */
    requestedType: text("requested_type"),
    mode: text("mode").notNull(), // "notify" | "auto_deploy"
    deployRequest: jsonb("deploy_request"),
    status: text("status").notNull(), // waiting | notified | deployed | failed | cancelled
    statusReason: text("status_reason"),
    instanceId: text("instance_id"),
    createdAt: createdAt(),
    fulfilledAt: tstz("fulfilled_at"),
  },
  (t) => [
    index("waitlist_queue_idx").on(t.instanceTypeId, t.regionId, t.status, t.id),
    index("waitlist_instance_idx").on(t.instanceId),
  ],
);

export const webhookEndpoints = pgTable(
  "webhook_endpoints",
  {
    id: text("id").primaryKey(),
    /** Null for operator endpoints (fleet alerts). */
    tenantId: integer("tenant_id").references(() => tenants.id, { onDelete: "cascade" }),
    url: text("url").notNull(),
    description: text("description"),
    events: text("events").array().notNull(),
    /** Standard Webhooks signing secret ("whsec_…"); it must be kept to sign, so it is stored, never returned after creation. */
    secret: text("secret").notNull(),
    status: text("status").notNull().default("active"), // active | disabled
    disabledReason: text("disabled_reason"),
    consecutiveFailures: integer("consecutive_failures").notNull().default(0),
    /** Start of the current run of failed attempts (null after a success); a day of failures disables the endpoint. */
    failingSince: tstz("failing_since"),
    createdAt: createdAt(),
  },
  (t) => [index("webhook_endpoints_tenant_idx").on(t.tenantId)],
);

/** Every event gpuplane emits (instance state changes, waitlist, billing, alerts). */
export const events = pgTable(
  "events",
  {
    id: text("id").primaryKey(), // "evt_…", also the webhook-id
    tenantId: integer("tenant_id"),
    type: text("type").notNull(), // "instance.running", "billing.low_balance", …
    data: jsonb("data").notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index("events_tenant_idx").on(t.tenantId, t.id),
    // An instance's history (GET /instances/{id}/events): its instance.* and volume.* events, newest first.
    index("events_instance_idx").on(sql`(${t.data}->>'instance_id')`, t.id).where(sql`${t.data} ? 'instance_id'`),
  ],
);

/** Durable outbox: one row per event per endpoint, claimed with FOR UPDATE SKIP LOCKED. */
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: text("id").primaryKey(),
    endpointId: text("endpoint_id")
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: "cascade" }),
    eventId: text("event_id").notNull(),
    status: text("status").notNull().default("pending"), // pending | delivered | failed
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: tstz("next_attempt_at").notNull().defaultNow(),
    lastStatusCode: integer("last_status_code"),
    lastError: text("last_error"),
    lastAttemptAt: tstz("last_attempt_at"),
    deliveredAt: tstz("delivered_at"),
    createdAt: createdAt(),
  },
  (t) => [
    index("webhook_deliveries_due_idx").on(t.status, t.nextAttemptAt),
    index("webhook_deliveries_endpoint_idx").on(t.endpointId, t.id),
    uniqueIndex("webhook_deliveries_event_endpoint").on(t.eventId, t.endpointId),
  ],
);
