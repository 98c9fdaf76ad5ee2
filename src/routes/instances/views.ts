import { z } from "@hono/zod-openapi";
import { inArray } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import { instanceTypeAliases, instanceTypes, nodes } from "../../db/schema/index.js";
import { envView, portsView } from "../../domain/instances/container.js";
import type { InstanceRow } from "../../domain/instances/row.js";
import { instanceStatuses } from "../../domain/instances/states.js";
import { billedWhileStoppedNote } from "../../domain/providers/billing-rule.js";
import { volumesOf } from "../../domain/volumes/volumes.js";
import { microsToUsd, microsToUsdNumber } from "../../lib/money.js";
import { EnvVar, ExposedPort } from "./container-schemas.js";

/** What both API shapes need beyond the row: the type's other ids and the attached volumes. */
export interface InstanceDetails {
  row: InstanceRow;
  planId: string;
  clusterType: string;
  volumeIds: string[];
  disk: DiskView;
}

/**
 * The instance type's disk size, and whether something enforces it: on a fleet node, the node's storage verdict (the
 * agent sets the container's size only where its runtime's storage can cap it); null where gpuplane cannot tell (not
 * placed yet, or a resold cloud's own disk).
 */
export interface DiskView {
  sizeGb: number | null;
  enforced: boolean | null;
}

export async function withDetails(ctx: AppContext, rows: InstanceRow[]): Promise<InstanceDetails[]> {
  const typeIds = [...new Set(rows.map((r) => r.instanceTypeId))];
  const nodeIds = [...new Set(rows.map((r) => r.nodeId).filter((n): n is number => n !== null))];
  const [aliases, volumes, types, storage] = await Promise.all([
    typeIds.length
      ? ctx.db.select().from(instanceTypeAliases).where(inArray(instanceTypeAliases.instanceTypeId, typeIds))
      : [],
    volumesOf(
      ctx.db,
      rows.map((r) => r.id),
    ),
    typeIds.length
      ? ctx.db
          .select({ id: instanceTypes.id, diskGb: instanceTypes.diskGb })
          .from(instanceTypes)
          .where(inArray(instanceTypes.id, typeIds))
      : [],
    nodeIds.length
      ? ctx.db.select({ id: nodes.id, storage: nodes.storage }).from(nodes).where(inArray(nodes.id, nodeIds))
      : [],
  ]);
  const diskOf = (row: InstanceRow): DiskView => {
    const sizeGb = row.diskGb ?? types.find((t) => t.id === row.instanceTypeId)?.diskGb ?? null;
    if (row.provider !== "fleet" || row.nodeId === null) return { sizeGb, enforced: null };
    return { sizeGb, enforced: storage.find((n) => n.id === row.nodeId)?.storage?.diskLimit ?? false };
  };
  const alias = (typeId: string, kind: string) =>
    aliases.find((a) => a.instanceTypeId === typeId && a.kind === kind)?.alias ?? typeId;
  return rows.map((row) => ({
    row,
    planId: alias(row.instanceTypeId, "plan"),
    clusterType: alias(row.instanceTypeId, "cluster_type"),
    volumeIds: (volumes.get(row.id) ?? []).map((v) => v.id),
    disk: diskOf(row),
  }));
}

export const sshCommand = (r: InstanceRow) =>
  r.status === "running" && r.ipAddress ? `ssh -p ${r.sshPort ?? 22} ${r.sshUser ?? "root"}@${r.ipAddress}` : null;

const DISK_DOC =
  "The instance type's disk size and whether it is enforced: true where the node's container storage caps it, false " +
  "where it cannot (the size is a catalog figure there), null where gpuplane cannot tell (not placed, a resold cloud)";

const billingName = (s: number) => (s === 1 ? "per_second" : s === 60 ? "per_minute" : `per_${s}s`);
const iso = (d: Date | null) => d?.toISOString() ?? null;
const Status = z.enum(instanceStatuses);

/** Seed 000's instance, camelCase as its create body. */
export const Instance = z
  .object({
    id: z.string(),
    name: z.string(),
    status: Status,
    statusReason: z.string().nullable(),
    planId: z.string().openapi({ example: "GPU.H100.1x" }),
    clusterType: z.string().openapi({ example: "1H100.80S.30V" }),
    instanceTypeId: z.string(),
    templateSlug: z.string().openapi({ example: "pytorch-cuda" }),
    region: z.string(),
    gpuType: z.string(),
    gpuCount: z.number().int(),
    pricePerHour: z.string().openapi({ description: "Exact USD", example: "2.490000" }),
    pricePerHourUsd: z.number(),
    billing: z.string(),
    billedWhileStopped: z.string().nullable().openapi({
      description: "Why a stopped instance keeps billing (its cloud keeps charging it); null when a stop ends billing",
    }),
    provider: z.string().openapi({
      description: "Where it runs: fleet, a resold cloud, or simulator (no machine behind it: nothing to SSH into)",
      example: "fleet",
    }),
    ipAddress: z.string().nullable(),
    sshUser: z.string().nullable(),
    sshPort: z.number().int().nullable(),
    sshCommand: z.string().nullable().openapi({ example: "ssh -p 22 ubuntu@100.64.1.2" }),
    sshKeyId: z.string().nullable(),
    sshKeyIds: z.array(z.string()),
    volumeIds: z.array(z.string()),
    image: z.string().nullable().openapi({ description: "Your own OCI image, when launched from one (else null)" }),
    env: z.array(EnvVar),
    command: z.array(z.string()).nullable(),
    diskGb: z.number().int().nullable(),
    ports: z.array(ExposedPort),
    disk: z
      .object({ sizeGb: z.number().int().nullable(), enforced: z.boolean().nullable() })
      .openapi({ description: DISK_DOC }),
    tenantId: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
    runningSince: z.string().nullable(),
    stoppedAt: z.string().nullable(),
    deletedAt: z.string().nullable(),
  })
  .openapi("Instance");

export const instanceView = ({ row: r, planId, clusterType, volumeIds, disk }: InstanceDetails) => ({
  id: r.id,
  name: r.name,
  status: r.status,
  statusReason: r.statusReason,
  planId: r.requestedType === clusterType ? planId : r.requestedType === r.instanceTypeId ? planId : r.requestedType,
  clusterType,
  instanceTypeId: r.instanceTypeId,
  templateSlug: r.imageId,
  region: r.regionId,
  gpuType: r.gpuModel,
  gpuCount: r.gpuCount,
  pricePerHour: microsToUsd(r.pricePerHourMicros),
  pricePerHourUsd: microsToUsdNumber(r.pricePerHourMicros),
  billing: billingName(r.billingGranularitySeconds),
  billedWhileStopped: billedWhileStoppedNote(r.provider, r.billedWhileStopped),
  provider: r.provider,
  ipAddress: r.status === "running" ? r.ipAddress : null,
  sshUser: r.sshUser,
  sshPort: r.sshPort,
  sshCommand: sshCommand(r),
  sshKeyId: r.sshKeyIds[0] ?? null,
  sshKeyIds: r.sshKeyIds,
  volumeIds,
  image: r.imageRef,
  env: envView(r.env),
  command: r.command,
  diskGb: r.diskGb,
  ports: portsView(r.ports, r.portMappings, r.status === "running"),
  disk,
  tenantId: r.tenantId,
  createdAt: r.createdAt.toISOString(),
  updatedAt: r.updatedAt.toISOString(),
  runningSince: r.status === "running" ? iso(r.runningSince) : null,
  stoppedAt: iso(r.stoppedAt),
  deletedAt: iso(r.deletedAt),
});

/** Seed 001's deployment, snake_case. */
export const Deployment = z
  .object({
    id: z.string(),
    hostname: z.string(),
    status: Status,
    status_reason: z.string().nullable(),
    cluster_type: z.string().openapi({ example: "1H100.80S.30V" }),
    plan_id: z.string(),
    instance_type_id: z.string(),
    image: z.string(),
    location: z.string().openapi({ example: "FIN-01" }),
    gpu: z.object({ model: z.string(), count: z.number().int() }),
    ip: z.string().nullable(),
    ssh_user: z.string().nullable(),
    ssh_port: z.number().int().nullable(),
    ssh_command: z.string().nullable().openapi({ example: "ssh -p 22 root@100.64.1.2" }),
    ssh_key_ids: z.array(z.string()),
    volume_ids: z.array(z.string()),
    image_ref: z.string().nullable().openapi({ description: "Your own OCI image, when launched from one" }),
    env: z.array(EnvVar),
    command: z.array(z.string()).nullable(),
    disk_gb: z.number().int().nullable(),
    ports: z.array(ExposedPort),
    disk: z
      .object({ size_gb: z.number().int().nullable(), enforced: z.boolean().nullable() })
      .openapi({ description: DISK_DOC }),
    price_per_hour: z.string(),
    price_per_hour_usd: z.number(),
    billing: z.string(),
    billing_granularity_seconds: z.number().int(),
    billed_while_stopped: z.string().nullable().openapi({
      description: "Why a stopped instance keeps billing (its cloud keeps charging it); null when a stop ends billing",
    }),
    tenant_id: z.number().int(),
    created_at: z.string(),
    updated_at: z.string(),
    running_since: z.string().nullable(),
    stopped_at: z.string().nullable(),
    deleted_at: z.string().nullable(),
  })
  .openapi("Deployment");

export const deploymentView = ({ row: r, planId, clusterType, volumeIds, disk }: InstanceDetails) => ({
  id: r.id,
  hostname: r.name,
  status: r.status,
  status_reason: r.statusReason,
  cluster_type: r.requestedType === planId || r.requestedType === r.instanceTypeId ? clusterType : r.requestedType,
  plan_id: planId,
  instance_type_id: r.instanceTypeId,
  image: r.imageId,
  location: r.regionId,
  gpu: { model: r.gpuModel, count: r.gpuCount },
  ip: r.status === "running" ? r.ipAddress : null,
  ssh_user: r.sshUser,
  ssh_port: r.sshPort,
  ssh_command: sshCommand(r),
  ssh_key_ids: r.sshKeyIds,
  volume_ids: volumeIds,
  image_ref: r.imageRef,
  env: envView(r.env),
  command: r.command,
  disk_gb: r.diskGb,
  ports: portsView(r.ports, r.portMappings, r.status === "running"),
  disk: { size_gb: disk.sizeGb, enforced: disk.enforced },
  price_per_hour: microsToUsd(r.pricePerHourMicros),
  price_per_hour_usd: microsToUsdNumber(r.pricePerHourMicros),
  billing: billingName(r.billingGranularitySeconds),
  billing_granularity_seconds: r.billingGranularitySeconds,
  billed_while_stopped: billedWhileStoppedNote(r.provider, r.billedWhileStopped),
  tenant_id: r.tenantId,
  created_at: r.createdAt.toISOString(),
  updated_at: r.updatedAt.toISOString(),
  running_since: r.status === "running" ? iso(r.runningSince) : null,
  stopped_at: iso(r.stoppedAt),
  deleted_at: iso(r.deletedAt),
});
