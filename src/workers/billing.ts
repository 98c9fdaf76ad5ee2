import { meterWorker } from "./meter.js";
import type { Worker } from "./runner.js";

/** Background loops owned by the billing area (one file per loop beside this one). */
export const workers: Worker[] = [meterWorker];
