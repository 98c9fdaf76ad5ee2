import { z } from "@hono/zod-openapi";
import type { Principal } from "../../domain/identity/principal.js";
import { ApiError } from "../../lib/errors.js";
import { int32, urlInt } from "../../lib/schemas.js";

/** An instance id in an agent route's path (report, logs). */
export const InstanceId = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "id", in: "path" } }),
});

/** The node a node-agent credential belongs to; any other key is refused (these routes act as the node). */
export function callerNode(p: Principal): number {
  if (p.nodeId === null) throw new ApiError("FORBIDDEN", "this endpoint takes a node agent credential");
  return p.nodeId;
}

const Sha256 = z
  .string()
  .regex(/^[0-9a-f]{64}$/, "must be a sha256 in hex")
  .openapi({ description: "sha256 of the single file the agent runs from (null: it runs from its sources)" });

export const Health = z.enum(["healthy", "degraded", "unhealthy"]);

const ImageRef = z.string().min(1).max(500);

const ImagesReport = z
  .object({
    present: z.array(ImageRef).max(5000).openapi({ description: "Every tag and digest the node's runtime lists" }),
    pull: z.enum(["missing", "never"]).openapi({
      description: "missing: the agent pulls the wanted images it lacks (--pull missing); never: it only reports",
    }),
    failed: z
      .array(z.object({ ref: ImageRef, error: z.string().max(2000) }))
      .max(1000)
      .optional()
      .openapi({ description: "Wanted images whose last pull failed, with the runtime's message" }),
  })
  .nullable()
  .optional()
  .openapi({ description: "The node's container images (null: no container runtime)" });

const StorageVerdict = z
  .object({
    driver: z.string().max(100),
    backing_fs: z.string().max(100),
    disk_limit: z.boolean().openapi({ description: "A container's disk size (--storage-opt size=) is enforced" }),
    reason: z.string().max(1000),
  })
  .nullable()
  .optional()
  .openapi({ description: "The runtime's storage and whether it enforces a container's disk size" });

/** The storage verdict as stored on the node. */
export const storageOf = (s: z.infer<typeof StorageVerdict>) =>
  s && { driver: s.driver, backingFs: s.backing_fs, diskLimit: s.disk_limit, reason: s.reason };

const WantedImages = z
  .array(z.string())
  .openapi({ description: "The images this node should have: the catalog's and the operator's GPUPLANE_NODE_IMAGES" });

export const JoinToken = z
  .object({
    id: z.string(),
    token: z.string().openapi({ description: "The secret, shown once: pass it to `gpuplane agent --token`" }),
    cluster_id: z.number().int(),
    node_id: z.number().int().nullable(),
    expires_at: z.string(),
    join_command: z.string().openapi({
      description:
        "Run on the GPU host as root: downloads install.sh from this server, which installs the agent as a service (docs/agent.md)",
    }),
    join_command_warning: z.string().nullable().openapi({
      description: "Why the command will not work as printed (it carries a loopback address), or null",
    }),
  })
  .openapi("JoinToken");

export const CreateJoinTokenBody = z
  .object({
    node_id: int32().optional().openapi({ description: "Bind the token to an existing node" }),
    ttl_seconds: z
      .number()
      .int()
      .min(60)
      .max(30 * 24 * 3600)
      .optional()
      .openapi({ description: "Lifetime (default 86400)" }),
  })
  .strict();

export const JoinBody = z
  .object({
    token: z.string().min(1).max(200),
    hostname: z.string().min(1).max(253),
    ip_address: z.string().max(64).nullable().optional(),
    cpu_cores: z.number().int().min(0).max(100_000).nullable().optional(),
    ram_gb: z.number().int().min(0).max(1_000_000).nullable().optional(),
    agent_version: z.string().max(64).nullable().optional(),
    agent_sha256: Sha256.nullable().optional(),
    gpus: z
      .array(
        z.object({
          index: z.number().int().min(0).max(1023),
          uuid: z.string().min(1).max(128),
          model: z.string().min(1).max(200),
          vram_mb: int32(0, 100_000_000).nullable().optional(),
          driver_version: z.string().max(64).nullable().optional(),
        }),
      )
      .max(1024),
    facts: z.record(z.string(), z.unknown()).optional(),
    images: ImagesReport,
    storage: StorageVerdict,
  })
  .openapi("AgentJoin");

export const RegisteredGpu = z.object({ id: z.number().int(), index: z.number().int(), uuid: z.string().nullable() });

export const JoinResult = z
  .object({
    node_id: z.number().int(),
    cluster_id: z.number().int(),
    credential: z.string().openapi({ description: "The node's API key, shown once; the agent stores it" }),
    gpus: z.array(RegisteredGpu),
    images: WantedImages,
  })
  .openapi("AgentJoinResult");

export const HeartbeatBody = z
  .object({
    agent_version: z.string().max(64).nullable().optional(),
    agent_sha256: Sha256.nullable().optional(),
    gpus: z
      .array(
        z.object({
          index: z.number().int().min(0).max(1023),
          uuid: z.string().max(128).nullable().optional(),
          health: Health,
          reason: z.string().max(500).nullable().optional(),
        }),
      )
      .max(1024),
    gpu_error: z.string().max(2000).nullable().optional(),
    running_jobs: z.array(int32()).max(10_000).optional(),
    images: ImagesReport,
    storage: StorageVerdict,
  })
  .openapi("AgentHeartbeat");

export const HeartbeatResult = z
  .object({
    node_id: z.number().int(),
    status: z.string(),
    gpus: z.array(RegisteredGpu.extend({ health: z.string() })),
    upgrade: z
      .object({ version: z.string(), sha256: z.string(), url: z.string() })
      .nullable()
      .openapi({ description: "An operator asked this node to run the server's agent build: fetch, verify, restart" }),
    images: WantedImages,
  })
  .openapi("AgentHeartbeatResult");

export const AssignmentsQuery = z.object({
  wait: urlInt(0, 60).default(0).openapi({ description: "Long-poll up to this many seconds" }),
  version: z.string().max(64).optional().openapi({ description: "The version the agent has; wait for another" }),
});

export const Assignments = z
  .object({
    version: z.string(),
    jobs: z.array(
      z.object({
        id: z.number().int(),
        name: z.string(),
        status: z.string(),
        command: z.string().nullable(),
        image: z.string().nullable(),
        tenant_id: z.number().int().nullable(),
        env: z.record(z.string(), z.string()),
        gpu_indices: z.array(z.number().int()),
        gpu_uuids: z.array(z.string()),
      }),
    ),
    instances: z.array(
      z.object({
        id: z.string(),
        status: z.string(),
        gpu_indices: z.array(z.number().int()),
        gpu_uuids: z.array(z.string()),
        ssh_public_keys: z.array(z.string()),
        tenant_id: z.number().int(),
        image: z.string().nullable(),
        vcpus: z.number().int().nullable(),
        ram_gb: z.number().int().nullable(),
        disk_gb: z.number().int().nullable().openapi({
          description:
            "The disk size asked at launch, else the instance type's: set as the container's size where the node's storage enforces it",
        }),
        volumes: z.array(z.object({ id: z.string(), name: z.string() })),
        /** The customer's env (secret values too: the container needs them), start command and ports to publish. */
        env: z.record(z.string(), z.string()),
        command: z.array(z.string()).nullable(),
        ports: z.array(z.object({ port: z.number().int(), protocol: z.enum(["http", "tcp"]) })),
      }),
    ),
  })
  .openapi("AgentAssignments");
