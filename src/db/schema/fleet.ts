import { sql } from "drizzle-orm";
import { index, integer, jsonb, pgTable, primaryKey, real, serial, text, uniqueIndex } from "drizzle-orm/pg-core";
import { createdAt, tstz } from "./columns.js";

export interface NodeImages {
  /** Normalized references (docker.io/library/ubuntu:22.04, repo@sha256:…) of the images the node has. */
  present: string[];
  /** "missing": the agent pulls the images the server wants that it lacks; "never": it only reports. */
  pull: "missing" | "never";
  failed: { ref: string; error: string }[];
  reportedAt: string;
}

export interface NodeStorage {
  driver: string;
  backingFs: string;
  diskLimit: boolean;
  reason: string;
}

export const clusters = pgTable(
  "clusters",
  {
    id: serial("id").primaryKey(),
    name: text("name").notNull(),
    region: text("region"),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("clusters_name_key").on(t.name)],
);

export const nodes = pgTable(
  "nodes",
  {
    id: serial("id").primaryKey(),
    clusterId: integer("cluster_id")
      .notNull()
      .references(() => clusters.id),
    hostname: text("hostname").notNull(),
    ipAddress: text("ip_address"),
    totalGpus: integer("total_gpus").notNull().default(0),
    cpuCores: integer("cpu_cores"),
    ramGb: integer("ram_gb"),
    /** active | cordoned (no new work) | draining (no new work, existing work is moved off) | down (heartbeats stopped) */
    status: text("status").notNull().default("active"),
    lastHeartbeatAt: tstz("last_heartbeat_at"),
    agentVersion: text("agent_version"),
    /** sha256 of the single file the agent runs from (null: it runs from its sources). */
    agentSha256: text("agent_sha256"),
    /** An operator asked for the server's agent build (POST /nodes/{id}/upgrade); cleared once the node runs it. */
    agentUpgradeRequestedAt: tstz("agent_upgrade_requested_at"),
    facts: jsonb("facts"),
    /**
     * The container images the agent last reported (every tag and digest its runtime lists, normalized), its pull
     * policy and the pulls that failed; null: no agent with a container runtime reported (placement then assumes
     * nothing). See src/domain/agent/images.ts.
     */
    images: jsonb("images").$type<NodeImages>(),
    /** The agent's verdict on its runtime's storage: whether a container's disk size can be enforced here. */
    storage: jsonb("storage").$type<NodeStorage>(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("nodes_hostname_key").on(t.hostname), index("nodes_cluster_idx").on(t.clusterId)],
);

export const gpus = pgTable(
  "gpus",
  {
    id: serial("id").primaryKey(),
    nodeId: integer("node_id")
      .notNull()
      .references(() => nodes.id, { onDelete: "cascade" }),
    gpuIndex: integer("gpu_index").notNull(),
    uuid: text("uuid"),
    model: text("model").notNull(),
    vramMb: integer("vram_mb"),
    /** healthy | degraded | unhealthy — set from the agent's health signals or by an operator. */
    health: text("health").notNull().default("healthy"),
    healthReason: text("health_reason"),
    driverVersion: text("driver_version"),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("gpus_node_index_key").on(t.nodeId, t.gpuIndex), index("gpus_model_idx").on(t.model)],
);

/**
 * Which workload holds a GPU. The primary key on gpu_id is what makes double-booking impossible, across replicas
 * too: instances (fleet provider) and jobs (scheduler) both allocate here, and a second claim on a GPU fails.
 */
export const gpuAllocations = pgTable(
  "gpu_allocations",
  {
    gpuId: integer("gpu_id")
      .primaryKey()
      .references(() => gpus.id, { onDelete: "cascade" }),
    nodeId: integer("node_id").notNull(),
    tenantId: integer("tenant_id"),
    instanceId: text("instance_id"),
    jobId: integer("job_id"),
    createdAt: createdAt(),
  },
  (t) => [
    index("gpu_allocations_node_idx").on(t.nodeId),
    index("gpu_allocations_tenant_idx").on(t.tenantId),
    index("gpu_allocations_job_idx").on(t.jobId),
    index("gpu_allocations_instance_idx").on(t.instanceId),
  ],
);

/** Newest sample per GPU, upserted on ingest: what the dashboard and alerts read. */
export const gpuLatestMetrics = pgTable("gpu_latest_metrics", {
  gpuId: integer("gpu_id").primaryKey(),
  ts: tstz("ts").notNull(),
  utilizationPct: real("utilization_pct"),
  memoryUsedMb: integer("memory_used_mb"),
  memoryTotalMb: integer("memory_total_mb"),
  temperatureC: real("temperature_c"),
  powerDrawW: real("power_draw_w"),
});

/** Raw samples. Time-partitioned on PostgreSQL by the metrics migration; retention and roll-ups by a worker. */
export const gpuMetrics = pgTable(
  "gpu_metrics",
  {
    gpuId: integer("gpu_id").notNull(),
    ts: tstz("ts").notNull(),
    utilizationPct: real("utilization_pct"),
    memoryUsedMb: integer("memory_used_mb"),
    memoryTotalMb: integer("memory_total_mb"),
    temperatureC: real("temperature_c"),
    powerDrawW: real("power_draw_w"),
  },
  (t) => [index("gpu_metrics_gpu_ts_idx").on(t.gpuId, sql`${t.ts} desc`)],
);

/**
 * Roll-ups of gpu_metrics per GPU and time bucket (one table per bucket width: per minute, per hour), written by the
 * metrics-maintenance worker. They outlive the raw samples, so long ranges are read from them.
 */
const rollupColumns = () => ({
  gpuId: integer("gpu_id").notNull(),
  bucket: tstz("bucket").notNull(),
  samples: integer("samples").notNull(),
  utilizationAvg: real("utilization_avg"),
  utilizationMax: real("utilization_max"),
  memoryUsedAvg: real("memory_used_avg"),
  memoryTotalMax: integer("memory_total_max"),
  temperatureAvg: real("temperature_avg"),
  temperatureMax: real("temperature_max"),
  powerDrawAvg: real("power_draw_avg"),
  powerDrawMax: real("power_draw_max"),
});

export const gpuMetricsMinute = pgTable("gpu_metrics_1m", rollupColumns(), (t) => [
  primaryKey({ name: "gpu_metrics_1m_pkey", columns: [t.gpuId, t.bucket] }),
  index("gpu_metrics_1m_bucket_idx").on(t.bucket),
]);

export const gpuMetricsHour = pgTable("gpu_metrics_1h", rollupColumns(), (t) => [
  primaryKey({ name: "gpu_metrics_1h_pkey", columns: [t.gpuId, t.bucket] }),
  index("gpu_metrics_1h_bucket_idx").on(t.bucket),
]);

/** How far each roll-up has been computed ("1m", "1h"): the worker recomputes from a little before this mark. */
export const metricsRollupState = pgTable("metrics_rollup_state", {
  name: text("name").primaryKey(),
  rolledUntil: tstz("rolled_until").notNull(),
});

export const nodeJoinTokens = pgTable("node_join_tokens", {
  id: text("id").primaryKey(),
  clusterId: integer("cluster_id")
    .notNull()
    .references(() => clusters.id, { onDelete: "cascade" }),
  /** Set when the operator created the node first: joining with this token binds the host to that node. */
  nodeId: integer("node_id").references(() => nodes.id, { onDelete: "cascade" }),
  tokenHash: text("token_hash").notNull().unique(),
  expiresAt: tstz("expires_at").notNull(),
  usedAt: tstz("used_at"),
  createdAt: createdAt(),
});
