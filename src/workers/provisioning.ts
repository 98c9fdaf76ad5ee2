import { runLaunches } from "../domain/providers/launch.js";
import type { Worker } from "./runner.js";

/**
 * Launches ordered upstream-backed instances on their clouds, outside any database transaction, each tagged with
 * its instance id so a retry or a crash adopts instead of launching twice. Kicked right after each create; the
 * poll catches claims whose worker crashed (their lease ran out) and launches deferred by a failing cloud.
 */
export const provisioning: Worker = {
  name: "provisioning",
  intervalMs: () => 2_000,
  tick: (ctx) => runLaunches(ctx),
};
