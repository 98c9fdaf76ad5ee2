import { maintainMetrics } from "../domain/metrics/maintenance.js";
import type { Worker } from "./runner.js";

/** Daily partitions ahead, per-minute and per-hour roll-ups, and retention of GPU metrics. */
export const metricsMaintenanceWorker: Worker = {
  name: "metrics-maintenance",
  intervalMs: () => 60_000,
  tick: (ctx) => maintainMetrics(ctx),
};
