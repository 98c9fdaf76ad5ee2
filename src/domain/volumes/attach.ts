import type { AppContext } from "../../context.js";
import { conflict } from "../../lib/errors.js";
import { isUpstreamName } from "../../providers/upstream/types.js";
import { lockInstance } from "../instances/record.js";
import type { InstanceRow } from "../instances/row.js";
import { attachVolume, detachVolume } from "./volumes.js";

/** Attaches a volume to a live instance after deploy: same tenant, same region, not attached elsewhere. */
export async function attachToInstance(ctx: AppContext, tenantId: number | null, instanceId: string, volumeId: string) {
  return ctx.db.transaction(async (tx) => {
    const instance = await lockInstance(tx, instanceId, tenantId);
    assertNotLaunchedUpstream(instance, "attached to");
    return attachVolume(ctx, tx, instance, volumeId);
  });
}

export async function detachFromInstance(
  ctx: AppContext,
  tenantId: number | null,
  instanceId: string,
  volumeId: string,
) {
  return ctx.db.transaction(async (tx) => {
    const instance = await lockInstance(tx, instanceId, tenantId);
    assertNotLaunchedUpstream(instance, "detached from");
    return detachVolume(ctx, tx, instance, volumeId);
  });
}

/**
 * A resold cloud takes volumes at launch only (Verda's `existing_volumes`; its attach and detach need the instance
 * shut down): on a launched instance they would change gpuplane's record and not the cloud's, so they are refused.
 */
function assertNotLaunchedUpstream(instance: InstanceRow, what: string) {
  if (instance.providerRef && isUpstreamName(instance.provider)) {
    throw conflict(
      `a volume is ${what} a ${instance.provider} instance only when it is created (or deleted); instance ${instance.id} is already launched`,
      { provider: instance.provider },
    );
  }
}
