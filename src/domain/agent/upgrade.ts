import { eq } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import { nodes } from "../../db/schema/index.js";
import { ApiError } from "../../lib/errors.js";
import { type Actor, audit } from "../audit/audit.js";
import { getNode, type NodeRow } from "../fleet/nodes.js";
import { agentArtifact } from "./artifact.js";

/**
 * Asks a node's agent to run the server's agent build: the next heartbeat's answer names it (version, sha256), and
 * the agent downloads, verifies and restarts into it between work. Repeating the request is harmless; it is
 * cleared once the node reports the served file's sha256.
 */
export async function requestAgentUpgrade(ctx: AppContext, actor: Actor, nodeId: number): Promise<NodeRow> {
  const node = await getNode(ctx, nodeId);
  if (node.agentVersion === null) {
    throw new ApiError("CONFLICT", `node ${nodeId} has no agent reporting: install one (its join command) first`);
  }
  const served = await agentArtifact(ctx.config).get();
  if (node.agentSha256 === served.sha256) {
    throw new ApiError(
      "CONFLICT",
      `node ${nodeId} already runs the server's agent ${served.version} (sha256 ${served.sha256})`,
    );
  }
  await ctx.db.transaction(async (tx) => {
    await tx
      .update(nodes)
      .set({ agentUpgradeRequestedAt: node.agentUpgradeRequestedAt ?? ctx.clock.now() })
      .where(eq(nodes.id, nodeId));
    await audit(tx, actor, {
      action: "node.upgrade",
      target: `node:${nodeId}`,
      tenantId: null,
      before: { agent_version: node.agentVersion, agent_sha256: node.agentSha256 },
      after: { agent_version: served.version, agent_sha256: served.sha256 },
    });
  });
  ctx.log.info(
    { node_id: nodeId, from: node.agentVersion, to: served.version, sha256: served.sha256 },
    "agent upgrade requested",
  );
  return getNode(ctx, nodeId);
}
