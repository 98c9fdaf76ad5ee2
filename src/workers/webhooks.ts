import type { Worker } from "./runner.js";
import { waitlist } from "./waitlist.js";
import { webhookDelivery } from "./webhook-delivery.js";

/** Background loops owned by the webhooks area (one file per loop beside this one). */
export const workers: Worker[] = [webhookDelivery, waitlist];
