import { nodeHealthWorker } from "./node-health.js";
import type { Worker } from "./runner.js";

/** Background loops owned by the agent area (one file per loop beside this one). */
export const workers: Worker[] = [nodeHealthWorker];
