import { createHash } from "node:crypto";
import { and, asc, eq, inArray } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import { gpuAllocations, gpus, images, instances, instanceTypes, jobs, volumes } from "../../db/schema/index.js";
import { defaultOciRef } from "../catalog/images.js";
import { authorizedKeys } from "../terminal/keys.js";

/** Job statuses a node should be running; anything else (cancelled, preempted, lost, …) means "stop it". */
const LIVE_JOB_STATUSES = ["scheduled", "running"];
/**
 * Instance statuses a node should be hosting; a stopped one keeps its (stopped) container, disk and port. Stopping
 * and deleting ones are listed until the agent confirms their container stopped (removed), even across its restart.
 */
const LIVE_INSTANCE_STATUSES = ["provisioning", "running", "stopping", "stopped", "deleting"];

export interface Assignments {
  /** Changes whenever the set changes: the agent sends it back to long-poll for the next change. */
  version: string;
  jobs: {
    id: number;
    name: string;
    status: string;
    command: string | null;
    image: string | null;
    tenant_id: number | null;
    env: Record<string, string>;
    gpu_indices: number[];
    gpu_uuids: string[];
  }[];
  instances: {
    id: string;
    status: string;
    gpu_indices: number[];
    gpu_uuids: string[];
    ssh_public_keys: string[];
    tenant_id: number;
    /** The catalog image's container image (null: the agent's default), the type's limits, attached volumes. */
    image: string | null;
    vcpus: number | null;
    ram_gb: number | null;
    /** The disk size asked at launch, else the type's: the agent caps the container's disk at it where its storage can. */
    disk_gb: number | null;
    volumes: { id: string; name: string }[];
    env: Record<string, string>;
    command: string[] | null;
    ports: { port: number; protocol: "http" | "tcp" }[];
  }[];
}

/** What the node should be running now: jobs scheduled on it and instances placed on it, with their GPUs. */
export async function currentAssignments(ctx: AppContext, nodeId: number): Promise<Assignments> {
  const [jobRows, instanceRows, nodeGpus, attached] = await Promise.all([
    ctx.db
      .select()
      .from(jobs)
      .where(and(eq(jobs.nodeId, nodeId), inArray(jobs.status, LIVE_JOB_STATUSES)))
      .orderBy(asc(jobs.id)),
    ctx.db
      .select({
        i: instances,
        ociRef: images.ociRef,
        vcpus: instanceTypes.vcpus,
        ramGb: instanceTypes.ramGb,
        diskGb: instanceTypes.diskGb,
      })
      .from(instances)
      .leftJoin(images, eq(images.id, instances.imageId))
      .leftJoin(instanceTypes, eq(instanceTypes.id, instances.instanceTypeId))
      .where(and(eq(instances.nodeId, nodeId), inArray(instances.status, LIVE_INSTANCE_STATUSES)))
      .orderBy(asc(instances.id)),
    ctx.db
      .select({ index: gpus.gpuIndex, uuid: gpus.uuid, instanceId: gpuAllocations.instanceId })
      .from(gpus)
      .leftJoin(gpuAllocations, eq(gpuAllocations.gpuId, gpus.id))
      .where(eq(gpus.nodeId, nodeId)),
    ctx.db
      .select({ id: volumes.id, name: volumes.name, instanceId: volumes.instanceId })
      .from(volumes)
      .innerJoin(instances, eq(instances.id, volumes.instanceId))
      .where(and(eq(instances.nodeId, nodeId), eq(volumes.status, "attached")))
      .orderBy(asc(volumes.id)),
  ]);
  const uuidOf = new Map(nodeGpus.map((g) => [g.index, g.uuid ?? ""]));
  const view: Omit<Assignments, "version"> = {
    jobs: jobRows.map((j) => {
      const indices = [...(j.gpuIndices ?? [])].sort((a, b) => a - b);
      return {
        id: j.id,
        name: j.name,
        status: j.status,
        command: j.command,
        image: j.image,
        tenant_id: j.tenantId,
        env: stringEnv(j.env),
        gpu_indices: indices,
        gpu_uuids: indices.map((i) => uuidOf.get(i) ?? ""),
      };
    }),
    instances: instanceRows.map(({ i, ociRef, vcpus, ramGb, diskGb }) => {
      const indices = nodeGpus
        .filter((g) => g.instanceId === i.id)
        .map((g) => g.index)
        .sort((a, b) => a - b);
      return {
        id: i.id,
        status: i.status,
        gpu_indices: indices,
        gpu_uuids: indices.map((x) => uuidOf.get(x) ?? ""),
        ssh_public_keys: authorizedKeys(ctx, i),
        tenant_id: i.tenantId,
        image: i.imageRef ?? ociRef ?? defaultOciRef(i.imageId),
        vcpus,
        ram_gb: ramGb,
        disk_gb: i.diskGb ?? diskGb,
        volumes: attached.filter((v) => v.instanceId === i.id).map((v) => ({ id: v.id, name: v.name })),
        env: Object.fromEntries(i.env.map((v) => [v.name, v.value])),
        command: i.command,
        ports: i.ports,
      };
    }),
  };
  const version = createHash("sha256").update(JSON.stringify(view)).digest("hex").slice(0, 16);
  return { version, ...view };
}

/**
 * Long poll: answers at once when the assignments differ from `knownVersion`, else waits (up to `waitSeconds`) for
 * them to change. The check reads the database, so a change made by any replica is seen within one poll step.
 */
export async function waitForAssignments(
  ctx: AppContext,
  nodeId: number,
  knownVersion: string | undefined,
  waitSeconds: number,
  signal?: AbortSignal,
): Promise<Assignments> {
  const deadline = Date.now() + waitSeconds * 1000;
  for (;;) {
    const current = await currentAssignments(ctx, nodeId);
    if (current.version !== knownVersion || Date.now() >= deadline || signal?.aborted) return current;
    await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_STEP_MS, Math.max(0, deadline - Date.now()))));
  }
}
const POLL_STEP_MS = 500;

function stringEnv(env: unknown): Record<string, string> {
  if (!env || typeof env !== "object" || Array.isArray(env)) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== null && v !== undefined) out[k] = String(v);
  return out;
}

export async function instanceOnNode(ctx: AppContext, nodeId: number, instanceId: string) {
  const [instance] = await ctx.db
    .select()
    .from(instances)
    .where(and(eq(instances.id, instanceId), eq(instances.nodeId, nodeId)));
  return instance;
}
