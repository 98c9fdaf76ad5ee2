import { provisioning } from "./provisioning.js";
import type { Worker } from "./runner.js";
import { statusSync } from "./status-sync.js";

/** Background loops owned by the customer area (one file per loop beside this one). */
export const workers: Worker[] = [statusSync, provisioning];
