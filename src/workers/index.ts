import { workers as agent } from "./agent.js";
import { workers as billing } from "./billing.js";
import { workers as customer } from "./customer.js";
import { workers as fleet } from "./fleet.js";
import { workers as jobs } from "./jobs.js";
import type { Worker } from "./runner.js";
import { workers as webhooks } from "./webhooks.js";

/** Every background loop. */
export const allWorkers: Worker[] = [...customer, ...webhooks, ...billing, ...fleet, ...jobs, ...agent];
