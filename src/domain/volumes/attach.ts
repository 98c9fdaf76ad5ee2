import type { AppContext } from "../../context.js";
import { lockInstance } from "../instances/record.js";
import { attachVolume, detachVolume } from "./volumes.js";

/** Attaches a volume to a live instance after deploy: same tenant, same region, not attached elsewhere. */
export async function attachToInstance(ctx: AppContext, tenantId: number | null, instanceId: string, volumeId: string) {
  return ctx.db.transaction(async (tx) => {
    const instance = await lockInstance(tx, instanceId, tenantId);
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
    return detachVolume(ctx, tx, instance, volumeId);
  });
}
