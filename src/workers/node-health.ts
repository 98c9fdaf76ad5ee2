import { markSilentNodesDown } from "../domain/agent/node-down.js";
import type { Worker } from "./runner.js";

/** Marks nodes down when their agent's heartbeats stop for longer than config.nodeGraceMs. */
export const nodeHealthWorker: Worker = {
  name: "node-health",
  // Check a few times per grace period so a silent node is marked down soon after its grace runs out.
  intervalMs: (ctx) => Math.max(1_000, Math.min(15_000, Math.floor(ctx.config.nodeGraceMs / 4))),
  tick: (ctx) => markSilentNodesDown(ctx),
};
