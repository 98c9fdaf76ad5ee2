import type { Worker } from "./runner.js";
import { schedulerWorker } from "./scheduler.js";

/** Background loops owned by the jobs area (one file per loop beside this one). */
export const workers: Worker[] = [schedulerWorker];
