import { randomBytes } from "node:crypto";
import { and, eq, isNull, notInArray } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import { apiKeys, clusters, gpus, type NodeStorage, nodeJoinTokens, nodes } from "../../db/schema/index.js";
import { ApiError, notFound } from "../../lib/errors.js";
import { newId } from "../../lib/ids.js";
import { sha256Hex } from "../../lib/secrets.js";
import { capacityFreed } from "../capacity.js";
import { createKey, forgetVerifiedKeys } from "../identity/keys.js";
import { type ImagesInput, imagesReport, wantedImages } from "./images.js";

export const JOIN_TOKEN_PREFIX = "gpj_";
export const DEFAULT_JOIN_TOKEN_TTL_S = 24 * 60 * 60;

export interface CreateJoinTokenInput {
  clusterId: number;
  /** Bind the token to a node the operator already created (its hostname is then checked at join). */
  nodeId?: number | null;
  ttlSeconds?: number;
}

/** A single-use join token for a cluster (or one of its nodes); only its SHA-256 is stored, the secret is returned once. */
export async function createJoinToken(ctx: AppContext, input: CreateJoinTokenInput) {
  const [cluster] = await ctx.db.select().from(clusters).where(eq(clusters.id, input.clusterId));
  if (!cluster) throw notFound("cluster");
  if (input.nodeId != null) {
    const [node] = await ctx.db.select().from(nodes).where(eq(nodes.id, input.nodeId));
    if (!node || node.clusterId !== cluster.id) throw notFound("node");
  }
  const token = JOIN_TOKEN_PREFIX + randomBytes(32).toString("hex");
  const now = ctx.clock.now();
  const [row] = await ctx.db
    .insert(nodeJoinTokens)
    .values({
      id: newId("njt"),
      clusterId: cluster.id,
      nodeId: input.nodeId ?? null,
      tokenHash: sha256Hex(token),
      expiresAt: new Date(now.getTime() + (input.ttlSeconds ?? DEFAULT_JOIN_TOKEN_TTL_S) * 1000),
      createdAt: now,
    })
    .returning();
  return { ...row, token };
}

/** What the agent discovered on its host; no inventory is typed by hand. */
export interface HostFacts {
  hostname: string;
  ipAddress?: string | null;
  cpuCores?: number | null;
  ramGb?: number | null;
  agentVersion?: string | null;
  agentSha256?: string | null;
  gpus: { index: number; uuid: string; model: string; vramMb?: number | null; driverVersion?: string | null }[];
  facts?: Record<string, unknown>;
  /** The container images the host has and its pull policy (null: no container runtime). */
  images?: ImagesInput | null;
  storage?: NodeStorage | null;
}

/**
 * Registers a host with a join token: the token is spent, the node is created (or the one the token names, or the
 * same hostname re-joining in the same cluster, is updated), its GPUs are upserted by index, and a node credential is
 * issued. Earlier credentials of that node are revoked, so a re-installed host cannot be impersonated by an old copy.
 */
export async function joinNode(ctx: AppContext, tokenSecret: string, host: HostFacts) {
  const now = ctx.clock.now();
  const result = await ctx.db.transaction(async (tx) => {
    const [token] = await tx
      .select()
      .from(nodeJoinTokens)
      .where(eq(nodeJoinTokens.tokenHash, sha256Hex(tokenSecret)))
      .for("update");
    if (!token || token.usedAt || token.expiresAt <= now) {
      throw new ApiError("UNAUTHORIZED", "join token is invalid, expired or already used; create a new one");
    }
    const [sameHost] = await tx.select().from(nodes).where(eq(nodes.hostname, host.hostname));
    let nodeId = token.nodeId;
    if (nodeId !== null) {
      if (sameHost && sameHost.id !== nodeId) {
        throw new ApiError("CONFLICT", `hostname ${host.hostname} belongs to another node (${sameHost.id})`);
      }
    } else if (sameHost) {
      if (sameHost.clusterId !== token.clusterId) {
        throw new ApiError("CONFLICT", `hostname ${host.hostname} is already a node of cluster ${sameHost.clusterId}`);
      }
      nodeId = sameHost.id;
    }
    const values = {
      hostname: host.hostname,
      ipAddress: host.ipAddress ?? null,
      cpuCores: host.cpuCores ?? null,
      ramGb: host.ramGb ?? null,
      totalGpus: host.gpus.length,
      agentVersion: host.agentVersion ?? null,
      agentSha256: host.agentSha256 ?? null,
      facts: host.facts ?? null,
      images: host.images ? imagesReport(host.images, now) : null,
      storage: host.storage ?? null,
      status: "active",
      lastHeartbeatAt: now,
    };
    if (nodeId === null) {
      const [created] = await tx
        .insert(nodes)
        .values({ ...values, clusterId: token.clusterId, createdAt: now })
        .returning({ id: nodes.id });
      nodeId = created.id;
    } else {
      await tx.update(nodes).set(values).where(eq(nodes.id, nodeId));
    }
    for (const gpu of host.gpus) {
      await tx
        .insert(gpus)
        .values({
          nodeId,
          gpuIndex: gpu.index,
          uuid: gpu.uuid,
          model: gpu.model,
          vramMb: gpu.vramMb ?? null,
          driverVersion: gpu.driverVersion ?? null,
          createdAt: now,
        })
        .onConflictDoUpdate({
          target: [gpus.nodeId, gpus.gpuIndex],
          set: {
            uuid: gpu.uuid,
            model: gpu.model,
            vramMb: gpu.vramMb ?? null,
            driverVersion: gpu.driverVersion ?? null,
          },
        });
    }
    // GPUs registered earlier that the host no longer shows are kept (allocations point at them) but not scheduled.
    const seen = host.gpus.map((g) => g.index);
    await tx
      .update(gpus)
      .set({ health: "unhealthy", healthReason: "not found by the node agent at join" })
      .where(and(eq(gpus.nodeId, nodeId), notInArray(gpus.gpuIndex, seen)));
    await tx.update(nodeJoinTokens).set({ usedAt: now }).where(eq(nodeJoinTokens.id, token.id));
    await tx
      .update(apiKeys)
      .set({ revokedAt: now })
      .where(and(eq(apiKeys.nodeId, nodeId), isNull(apiKeys.revokedAt)));
    const credential = await createKey(ctx, tx, {
      label: `node agent: ${host.hostname}`,
      tenantId: null,
      nodeId,
      scopes: ["fleet"],
      permissions: ["read", "write"],
    });
    const registered = await tx
      .select({ id: gpus.id, index: gpus.gpuIndex, uuid: gpus.uuid })
      .from(gpus)
      .where(eq(gpus.nodeId, nodeId));
    return { nodeId, clusterId: token.clusterId, key: credential.key, gpus: registered };
  });
  forgetVerifiedKeys(ctx);
  capacityFreed(ctx); // its GPUs are capacity now
  ctx.log.info({ node_id: result.nodeId, hostname: host.hostname, gpus: host.gpus.length }, "node joined");
  return { ...result, images: await wantedImages(ctx) };
}
