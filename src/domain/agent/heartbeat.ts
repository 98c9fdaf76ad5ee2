import { eq } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import { gpus, type NodeStorage, nodes } from "../../db/schema/index.js";
import { notFound } from "../../lib/errors.js";
import { capacityFreed } from "../capacity.js";
import { emitEvent } from "../events/emit.js";
import { agentArtifact } from "./artifact.js";
import { type ImagesInput, imagesReport, wantedImages } from "./images.js";

export type GpuHealth = "healthy" | "degraded" | "unhealthy";

export interface HeartbeatInput {
  agentVersion?: string | null;
  agentSha256?: string | null;
  /** The agent's verdict per GPU (rules in packages/agent/src/health.ts), matched by UUID, else by index. */
  gpus: { index: number; uuid?: string | null; health: GpuHealth; reason?: string | null }[];
  /** nvidia-smi itself failed (driver hung, GPU lost): every GPU of the node is unhealthy with this reason. */
  gpuError?: string | null;
  /** The images the node has (absent: an agent without a container runtime, or an older one: kept as it was). */
  images?: ImagesInput | null;
  /** Whether the runtime's storage enforces a container's disk size (absent: kept as it was). */
  storage?: NodeStorage | null;
}

/**
 * Records a heartbeat: the node is alive now (a node marked down comes back: status active, "node.up"), and each GPU
 * takes the health the agent reported. A registered GPU the agent no longer sees is unhealthy — a GPU that fell off
 * the bus disappears from nvidia-smi rather than reporting an error.
 */
export async function recordHeartbeat(ctx: AppContext, nodeId: number, input: HeartbeatInput) {
  const now = ctx.clock.now();
  // An upgrade asked for is answered with the build served now (built once per server, at start).
  const [asked] = await ctx.db.select({ at: nodes.agentUpgradeRequestedAt }).from(nodes).where(eq(nodes.id, nodeId));
  const served = asked?.at
    ? await agentArtifact(ctx.config)
        .get()
        .catch(() => null)
    : null;
  const outcome = await ctx.db.transaction(async (tx) => {
    const [node] = await tx.select().from(nodes).where(eq(nodes.id, nodeId)).for("update");
    if (!node) throw notFound("node");
    const cameBack = node.status === "down";
    const agentSha256 = input.agentSha256 === undefined ? node.agentSha256 : input.agentSha256;
    // The upgrade is done once the node runs the served file; until then each heartbeat's answer asks for it.
    const upgraded = served !== null && agentSha256 === served.sha256;
    const upgradeRequestedAt = upgraded ? null : node.agentUpgradeRequestedAt;
    if (upgraded && node.agentUpgradeRequestedAt) {
      ctx.log.info({ node_id: nodeId, version: input.agentVersion, sha256: agentSha256 }, "agent upgraded");
    }
    await tx
      .update(nodes)
      .set({
        lastHeartbeatAt: now,
        status: cameBack ? "active" : node.status,
        agentVersion: input.agentVersion ?? node.agentVersion,
        agentSha256,
        agentUpgradeRequestedAt: upgradeRequestedAt,
        ...(input.images !== undefined && { images: input.images && imagesReport(input.images, now) }),
        ...(input.storage !== undefined && { storage: input.storage }),
      })
      .where(eq(nodes.id, nodeId));
    if (cameBack) await emitEvent(tx, null, "node.up", { node_id: nodeId, hostname: node.hostname }, now);

    const registered = await tx.select().from(gpus).where(eq(gpus.nodeId, nodeId));
    let worsened = false;
    let healed = false;
    for (const gpu of registered) {
      const report =
        input.gpus.find((r) => r.uuid && gpu.uuid && r.uuid === gpu.uuid) ??
        input.gpus.find((r) => !r.uuid && r.index === gpu.gpuIndex);
      const next: { health: GpuHealth; reason: string | null } = input.gpuError
        ? { health: "unhealthy", reason: `nvidia-smi failed: ${input.gpuError}`.slice(0, 500) }
        : report
          ? { health: report.health, reason: report.health === "healthy" ? null : (report.reason ?? null) }
          : { health: "unhealthy", reason: "not visible to nvidia-smi on the node" };
      if (next.health === gpu.health && next.reason === gpu.healthReason) continue;
      if (rank(next.health) > rank(gpu.health as GpuHealth)) worsened = true;
      if (next.health === "healthy") healed = true;
      await tx.update(gpus).set({ health: next.health, healthReason: next.reason }).where(eq(gpus.id, gpu.id));
      ctx.log.info(
        { node_id: nodeId, gpu_id: gpu.id, from: gpu.health, to: next.health, reason: next.reason },
        "gpu health changed",
      );
    }
    const current = await tx
      .select({ id: gpus.id, index: gpus.gpuIndex, uuid: gpus.uuid, health: gpus.health })
      .from(gpus)
      .where(eq(gpus.nodeId, nodeId));
    const upgrade = upgradeRequestedAt && served ? { version: served.version, sha256: served.sha256 } : null;
    return { status: cameBack ? "active" : node.status, cameBack, worsened, healed, gpus: current, upgrade };
  });
  // The images this node should have: the agent pulls the missing ones (with --pull missing) and reports again.
  const images = await wantedImages(ctx);
  // The health_degraded alert rule reads gpus.health; ask it to look now rather than at its next interval.
  if (outcome.worsened) ctx.kick("alerts");
  // A node back in service or a GPU healthy again is capacity a waiting instance or job may take.
  if (outcome.cameBack || outcome.healed) capacityFreed(ctx);
  return { ...outcome, images };
}

const rank = (h: GpuHealth) => (h === "unhealthy" ? 2 : h === "degraded" ? 1 : 0);
