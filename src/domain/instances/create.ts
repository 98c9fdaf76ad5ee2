import { eq } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import type { Executor } from "../../db/client.js";
import { instances } from "../../db/schema/index.js";
import { ApiError, badRequest, NoCapacity } from "../../lib/errors.js";
import { newId } from "../../lib/ids.js";
import { assertMinimumBalance } from "../billing/balance.js";
import { type ImageRow, resolveImage } from "../catalog/images.js";
import { capacityOf } from "../catalog/offers.js";
import { listRegions, resolveRegion } from "../catalog/regions.js";
import { type InstanceType, priceIn, resolveInstanceType } from "../catalog/types.js";
import { emitEvent } from "../events/emit.js";
import { providers } from "../placement/registry.js";
import type { Placement } from "../placement/types.js";
import { assertQuota } from "../quota.js";
import { tenantKeysById } from "../ssh-keys/keys.js";
import { attachVolume, createVolume, type VolumeType } from "../volumes/volumes.js";
import { assertImageAllowed, type ContainerSettings, checkContainerSettings } from "./container.js";
import { eventData, transition } from "./record.js";
import type { InstanceRow } from "./row.js";

export interface CreateInstanceRequest {
  name: string;
  /** Canonical id, plan id ("GPU.H100.1x") or cluster type ("1H100.80S.30V"): interchangeable. */
  instanceType: string;
  /** Image or template slug. */
  image: string;
  /** Omitted (seed 000 names no region): the first region with capacity for the type. */
  regionId?: string | null;
  sshKeyIds: string[];
  volumeIds?: string[];
  newVolumes?: { name: string; sizeGb: number; type: VolumeType }[];
  /** When a resold cloud's offers all refuse for capacity, wait for capacity instead of failing. */
  waitlist?: boolean;
  /** Own image, env, start command, disk and ports (src/domain/instances/container.ts). */
  container?: ContainerSettings;
  /** The request's own field names, so errors speak the caller's dialect ("planId" or "cluster_type"). */
  fields?: { instanceType?: string; image?: string; region?: string; sshKeyIds?: string; imageRef?: string };
}

/**
 * Orders an instance: checks quota, the minimum balance and capacity, records it and asks its provider for it, all
 * in one transaction, so a refusal leaves nothing behind and two racing requests cannot both take the last GPU.
 * The status-sync worker carries it from provisioning to running.
 */
export async function createInstance(
  ctx: AppContext,
  tenantId: number,
  request: CreateInstanceRequest,
): Promise<InstanceRow> {
  const fields = {
    instanceType: "instance_type",
    image: "image",
    region: "region",
    sshKeyIds: "ssh_key_ids",
    imageRef: "image",
  };
  Object.assign(fields, request.fields);
  const container = request.container ?? {};
  const imageRef = container.imageRef ?? null;
  if (imageRef) assertImageAllowed(ctx.config, imageRef, fields.imageRef);
  if (!request.sshKeyIds.length) {
    throw badRequest(`${fields.sshKeyIds} is required: upload a public key with POST /api/v1/ssh-keys`);
  }
  // The catalog and key reads are independent: one round trip's worth of latency instead of four.
  const [type, image, keys, requestedRegion] = await Promise.all([
    resolveInstanceType(ctx, request.instanceType).catch((error) => {
      throw error instanceof ApiError ? badRequest(`${fields.instanceType}: ${error.message}`) : error;
    }),
    imageRef ? ownImage(imageRef) : resolveImage(ctx.db, request.image, fields.image),
    tenantKeysById(ctx.db, tenantId, request.sshKeyIds, fields.sshKeyIds),
    request.regionId ? resolveRegion(ctx.db, request.regionId, fields.region) : null,
  ]);
  checkContainerSettings(container, type.diskGb);
  if (!imageRef && !image.compatibleGpus.includes(type.gpuModel)) {
    throw badRequest(
      `${fields.image} '${image.id}' does not support ${type.gpuModel} GPUs (it supports ${image.compatibleGpus.join(", ")})`,
    );
  }
  const regionId = requestedRegion?.id ?? (await pickRegion(ctx, type));
  const provider = await providers(ctx).forRegion(ctx.db, regionId);
  if (!provider) throw noCapacity(request.instanceType, regionId);

  const row = await ctx.db.transaction(async (tx) => {
    await assertQuota(tx, tenantId, type.gpuCount);
    await assertMinimumBalance(ctx, tx, tenantId, priceIn(type, regionId));
    const now = ctx.clock.now();
    const [ordered] = await tx
      .insert(instances)
      .values({
        id: newId("inst"),
        tenantId,
        name: request.name,
        instanceTypeId: type.id,
        requestedType: request.instanceType,
        imageId: image.id,
        regionId,
        gpuCount: type.gpuCount,
        gpuModel: type.gpuModel,
        pricePerHourMicros: priceIn(type, regionId),
        billingGranularitySeconds: type.billingGranularitySeconds,
        minimumChargeMicros: type.minimumChargeMicros,
        provider: provider.name,
        status: "ordered",
        sshKeyIds: keys.map((k) => k.id),
        sshPublicKeys: keys.map((k) => k.publicKey),
        imageRef,
        env: container.env ?? [],
        command: container.command?.length ? container.command : null,
        diskGb: container.diskGb ?? null,
        ports: container.ports ?? [],
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    await emitEvent(tx, tenantId, "instance.ordered", eventData(ordered, null), now);
    const attached: { id: string; regionId: string }[] = [];
    for (const id of request.volumeIds ?? []) attached.push(await attachVolume(ctx, tx, ordered, id));
    for (const v of request.newVolumes ?? []) {
      const volume = await createVolume(ctx, tx, tenantId, { ...v, regionId });
      attached.push(await attachVolume(ctx, tx, ordered, volume.id));
    }
    const placement = await provider.provision(ctx, tx, ordered, {
      regionPinned: Boolean(request.regionId),
      waitlist: request.waitlist,
      image,
      volumes: attached,
      container: { imageRef, env: container.env, command: container.command, ports: container.ports },
    });
    if (!placement) throw noCapacity(request.instanceType, regionId);
    return applyPlacement(ctx, tx, ordered, placement);
  });
  ctx.kick(row.status === "ordered" ? "provisioning" : "status-sync");
  return row;
}

/**
 * Writes what the provider decided: ordered/stopped → provisioning, or straight on to running where the provider says
 * it is already up; a launch deferred to the provisioning worker waits `ordered` where its plan starts (a stopped
 * instance whose upstream copy is gone goes back to ordered).
 */
export async function applyPlacement(ctx: AppContext, tx: Executor, row: InstanceRow, placement: Placement) {
  if (placement.deferred) {
    const set = { ...placement.deferred, providerRef: null };
    if (row.status !== "ordered") return transition(ctx, tx, row, "ordered", { set });
    const [updated] = await tx.update(instances).set(set).where(eq(instances.id, row.id)).returning();
    return updated;
  }
  const placed = await transition(ctx, tx, row, "provisioning", {
    set: { providerRef: placement.providerRef, nodeId: placement.nodeId ?? null, ipAddress: null },
  });
  if (!placement.running) return placed;
  return transition(ctx, tx, placed, "running", { set: { ...placement.running } });
}

/** An own image stands in for a catalog row: any GPU, launched as is on the fleet and on clouds that run any image. */
async function ownImage(ref: string): Promise<ImageRow> {
  return {
    ...{ id: ref, name: ref, os: "custom", cudaVersion: null, description: null, compatibleGpus: [] },
    ...{ ociRef: ref, upstreamImages: {}, active: true, createdAt: new Date(0) },
  };
}

/** 409 with a pointer to the waitlist, which can notify or auto-deploy when capacity frees up. */
export function noCapacity(instanceType: string, regionId: string): NoCapacity {
  return new NoCapacity(
    `no capacity for ${instanceType} in ${regionId} right now; join the waitlist (POST /api/v1/waitlist) to be notified or deployed when it frees up`,
    { waitlist: { url: "/api/v1/waitlist", instance_type: instanceType, region: regionId } },
  );
}

/** Seed 000 names no region: take the first region (by id) with room for the type, else report the first one full. */
async function pickRegion(ctx: AppContext, type: InstanceType): Promise<string> {
  const regions = await listRegions(ctx);
  if (!regions.length) throw badRequest("no regions are configured");
  for (const r of regions) {
    if ((await capacityOf(ctx, ctx.db, type, r.id)) > 0) return r.id;
  }
  return regions[0].id;
}
