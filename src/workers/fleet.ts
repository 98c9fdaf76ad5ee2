import { alertsWorker } from "./alerts.js";
import { metricsMaintenanceWorker } from "./metrics-maintenance.js";
import type { Worker } from "./runner.js";

/** Background loops owned by the fleet area (one file per loop beside this one). */
export const workers: Worker[] = [metricsMaintenanceWorker, alertsWorker];
