import { sql } from "drizzle-orm";
import { index, integer, jsonb, pgTable, real, serial, text, uniqueIndex } from "drizzle-orm/pg-core";
import { createdAt, micros, tstz } from "./columns.js";

/** Lifecycle: queued → scheduled → running → completed | failed | cancelled; blocked while waiting on quota or capacity. */
export const jobs = pgTable(
  "jobs",
  {
    id: serial("id").primaryKey(),
    clusterId: integer("cluster_id").notNull(),
    tenantId: integer("tenant_id"),
    name: text("name").notNull(),
    gpuCount: integer("gpu_count").notNull().default(1),
    gpuType: text("gpu_type"),
    priority: integer("priority").notNull().default(5),
    status: text("status").notNull().default("queued"),
    blockReason: text("block_reason"),
    submittedBy: text("submitted_by"),
    estimatedDurationMin: integer("estimated_duration_min"),
    /** Shell command for the node agent to run; null for jobs tracked but run elsewhere. */
    command: text("command"),
    env: jsonb("env"),
    /** Container image the node agent runs the command in; null = the agent's job image. */
    image: text("image"),
    nodeId: integer("node_id"),
    gpuIndices: integer("gpu_indices").array(),
    /** Price per GPU-hour in micro-dollars charged to the tenant while running (null = not billed). */
    pricePerGpuHourMicros: micros("price_per_gpu_hour_micros"),
    exitCode: integer("exit_code"),
    outputTail: text("output_tail"),
    createdAt: createdAt(),
    scheduledAt: tstz("scheduled_at"),
    startedAt: tstz("started_at"),
    finishedAt: tstz("finished_at"),
    meteredUntil: tstz("metered_until"),
  },
  (t) => [
    index("jobs_queue_idx").on(t.status, t.priority, t.id),
    index("jobs_tenant_idx").on(t.tenantId, t.id),
    index("jobs_node_idx").on(t.nodeId),
  ],
);

export const alertRules = pgTable("alert_rules", {
  id: serial("id").primaryKey(),
  name: text("name").notNull(),
  type: text("type").notNull(), // utilization_low | quota_breach | health_degraded
  threshold: real("threshold"),
  windowSeconds: integer("window_seconds").notNull().default(300),
  /** { cluster_id?, node_id?, tenant_id? } */
  scope: jsonb("scope"),
  enabled: integer("enabled").notNull().default(1),
  createdAt: createdAt(),
});

export const alertEvents = pgTable(
  "alert_events",
  {
    id: serial("id").primaryKey(),
    ruleId: integer("rule_id").notNull(),
    subject: text("subject").notNull(), // "gpu:12", "tenant:3", "node:7"
    status: text("status").notNull(), // open | resolved
    severity: text("severity").notNull().default("warning"),
    message: text("message").notNull(),
    value: real("value"),
    openedAt: tstz("opened_at").notNull().defaultNow(),
    resolvedAt: tstz("resolved_at"),
  },
  (t) => [
    // An alert opens once per subject: a second open row for the same rule and subject is refused.
    uniqueIndex("alert_events_one_open").on(t.ruleId, t.subject).where(sql`status = 'open'`),
    index("alert_events_opened_idx").on(t.id),
  ],
);
