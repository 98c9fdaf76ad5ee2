import { meterTick } from "../domain/billing/auto-stop.js";
import type { Worker } from "./runner.js";

/** Charges running instances, paid jobs and volumes for the time since the last pass; auto-stops tenants at zero. */
export const meterWorker: Worker = {
  name: "meter",
  intervalMs: (ctx) => ctx.config.meterIntervalMs,
  tick: (ctx) => meterTick(ctx),
};
