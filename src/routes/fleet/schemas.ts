import { z } from "@hono/zod-openapi";
import { agentOutdated } from "../../domain/agent/artifact.js";
import { imagesOnNode } from "../../domain/agent/images.js";
import type { ClusterRow } from "../../domain/fleet/clusters.js";
import type { GpuView } from "../../domain/fleet/gpus.js";
import type { NodeRow } from "../../domain/fleet/nodes.js";
import { gpuStates, nodeStatuses } from "../../domain/fleet/state.js";
import { PageQuery } from "../../http/pagination.js";
import { int32, safeName, urlInt } from "../../lib/schemas.js";

const iso = (d: Date | null | undefined) => (d ? new Date(d).toISOString() : null);

export const IntIdParam = z.object({
  id: urlInt().openapi({ param: { name: "id", in: "path" } }),
});

const intRef = int32();

export const Cluster = z
  .object({
    id: z.number().int(),
    name: z.string(),
    region: z.string().nullable(),
    node_count: z.number().int(),
    gpu_count: z.number().int(),
    created_at: z.string(),
  })
  .openapi("Cluster");

export const clusterView = (c: ClusterRow) => ({
  id: c.id,
  name: c.name,
  region: c.region,
  node_count: Number(c.nodeCount),
  gpu_count: Number(c.gpuCount),
  created_at: iso(c.createdAt),
});

export const ClusterBody = z
  .object({
    name: safeName(200).openapi({ example: "us-east-a" }),
    region: safeName(64).nullable().optional().openapi({ example: "us-east-1" }),
  })
  .strict()
  .openapi("CreateCluster");
export const ClusterPatch = ClusterBody.partial().strict().openapi("UpdateCluster");

export const Node = z
  .object({
    id: z.number().int(),
    cluster_id: z.number().int(),
    hostname: z.string(),
    ip_address: z.string().nullable(),
    total_gpus: z.number().int(),
    cpu_cores: z.number().int().nullable(),
    ram_gb: z.number().int().nullable(),
    status: z.enum(nodeStatuses),
    gpu_count: z.number().int().openapi({ description: "GPUs registered on the node" }),
    allocated_gpus: z.number().int(),
    last_heartbeat_at: z.string().nullable(),
    agent_version: z.string().nullable(),
    agent_sha256: z.string().nullable().openapi({ description: "sha256 of the agent file the node runs" }),
    agent_outdated: z.boolean().nullable().openapi({
      description: "The node's agent is older than the server's (GET /agent/version); null: no agent reported",
    }),
    agent_upgrade_requested_at: z
      .string()
      .nullable()
      .openapi({ description: "POST /nodes/{id}/upgrade asked for the server's build; null once the node runs it" }),
    images: z
      .object({
        pull: z.enum(["missing", "never"]).openapi({ description: "The agent's --pull: missing (pulls) or never" }),
        reported_at: z.string(),
        present_count: z.number().int().openapi({ description: "Image references the node's runtime lists" }),
        catalog: z.array(
          z.object({
            image_id: z.string().nullable().openapi({ description: "The catalog image (null: GPUPLANE_NODE_IMAGES)" }),
            oci_ref: z.string(),
            state: z.enum(["present", "pullable", "failed", "missing"]).openapi({
              description:
                "present: the node has it; pullable: it will pull it (--pull missing); failed: its pull failed; missing: it lacks it and does not pull",
            }),
            error: z.string().nullable().openapi({ description: "The runtime's message for a failed pull" }),
          }),
        ),
      })
      .nullable()
      .openapi({ description: "The catalog's container images on this node; null: no agent with a runtime reported" }),
    storage: z
      .object({
        driver: z.string(),
        backing_fs: z.string(),
        disk_limit: z.boolean().openapi({ description: "Instances' disk sizes are enforced on this node" }),
        reason: z.string(),
      })
      .nullable()
      .openapi({ description: "The agent's storage verdict; null: not reported" }),
    created_at: z.string(),
  })
  .openapi("Node");

/**
 * A node as the operator sees it; `servedAgent` is the agent version this server hands out, `catalog` the images
 * every node should have (nodeImageCatalog).
 */
export const nodeView = (n: NodeRow, servedAgent: string, catalog: { id: string | null; ref: string }[]) => ({
  id: n.id,
  cluster_id: n.clusterId,
  hostname: n.hostname,
  ip_address: n.ipAddress,
  total_gpus: n.totalGpus,
  cpu_cores: n.cpuCores,
  ram_gb: n.ramGb,
  status: n.status,
  gpu_count: Number(n.gpuCount),
  allocated_gpus: Number(n.allocatedGpus),
  last_heartbeat_at: iso(n.lastHeartbeatAt),
  agent_version: n.agentVersion,
  agent_sha256: n.agentSha256,
  agent_outdated: agentOutdated(n.agentVersion, servedAgent),
  agent_upgrade_requested_at: iso(n.agentUpgradeRequestedAt),
  images: imagesOnNode(n.images, catalog),
  storage: n.storage && {
    driver: n.storage.driver,
    backing_fs: n.storage.backingFs,
    disk_limit: n.storage.diskLimit,
    reason: n.storage.reason,
  },
  created_at: iso(n.createdAt),
});

export const NodeBody = z
  .object({
    cluster_id: intRef,
    hostname: z
      .string()
      .trim()
      .min(1)
      .max(253)
      .regex(/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/, "must be a hostname (letters, digits, '.', '-')")
      .openapi({ example: "gpu-node-01" }),
    ip_address: z.union([z.ipv4(), z.ipv6()]).nullable().optional().openapi({ example: "10.0.0.11" }),
    total_gpus: z.number().int().min(0).max(1024).optional(),
    cpu_cores: z.number().int().min(1).max(100_000).nullable().optional(),
    ram_gb: z.number().int().min(1).max(1_000_000).nullable().optional(),
  })
  .strict()
  .openapi("CreateNode");
export const NodePatch = NodeBody.partial().strict().openapi("UpdateNode");

export const NodeListQuery = PageQuery.extend({
  cluster_id: urlInt().optional(),
  status: z.enum(nodeStatuses).optional(),
});

export const Gpu = z
  .object({
    id: z.number().int(),
    node_id: z.number().int(),
    cluster_id: z.number().int(),
    hostname: z.string(),
    gpu_index: z.number().int(),
    uuid: z.string().nullable(),
    model: z.string(),
    vram_mb: z.number().int().nullable(),
    health: z.string(),
    health_reason: z.string().nullable(),
    state: z
      .enum(gpuStates)
      .openapi({ description: "Derived: allocated, unhealthy, draining (node cordoned) or idle" }),
    allocation: z
      .object({
        tenant_id: z.number().int().nullable(),
        instance_id: z.string().nullable(),
        job_id: z.number().int().nullable(),
      })
      .nullable(),
    latest_metrics: z
      .object({
        ts: z.string(),
        utilization_pct: z.number().nullable(),
        memory_used_mb: z.number().int().nullable(),
        memory_total_mb: z.number().int().nullable(),
        temperature_c: z.number().nullable(),
        power_draw_w: z.number().nullable(),
      })
      .nullable(),
    created_at: z.string(),
  })
  .openapi("Gpu");

export const gpuView = (g: GpuView) => ({
  ...g,
  allocation: g.state === "allocated" ? { tenant_id: g.tenant_id, instance_id: g.instance_id, job_id: g.job_id } : null,
  latest_metrics: g.metrics_ts
    ? {
        ts: iso(g.metrics_ts),
        utilization_pct: g.utilization_pct,
        memory_used_mb: g.memory_used_mb,
        memory_total_mb: g.memory_total_mb,
        temperature_c: g.temperature_c,
        power_draw_w: g.power_draw_w,
      }
    : null,
  created_at: iso(g.created_at),
});

export const RegisterGpusBody = z
  .object({
    node_id: intRef,
    gpus: z
      .array(
        z
          .object({
            gpu_index: z.number().int().min(0).max(1023).optional(),
            model: safeName(200).optional().openapi({ example: "NVIDIA H100 80GB HBM3" }),
            vram_mb: z.number().int().min(0).max(10_000_000).optional(),
            uuid: z.string().max(128).optional(),
          })
          .strict(),
      )
      .min(1)
      .max(1024),
  })
  .strict()
  .openapi("RegisterGpus");

export const GpuListQuery = PageQuery.extend({
  node_id: urlInt().optional(),
  cluster_id: urlInt().optional(),
  state: z.enum(gpuStates).optional(),
  model: z.string().max(200).optional(),
});
