import { evaluateAlerts } from "../domain/alerts/evaluate.js";
import type { Worker } from "./runner.js";

/** Evaluates every alert rule (seed 002: every 30 s), opening and resolving alert events once each. */
export const alertsWorker: Worker = {
  name: "alerts",
  intervalMs: (ctx) => ctx.config.alertsIntervalMs,
  tick: (ctx) => evaluateAlerts(ctx),
};
