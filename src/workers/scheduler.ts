import { runSchedulerPass } from "../domain/jobs/scheduler.js";
import type { Worker } from "./runner.js";

/** The job scheduler: one pass over the whole queue every 30 s (GPUPLANE_SCHEDULER_INTERVAL_S), and on kicks. */
export const schedulerWorker: Worker = {
  name: "scheduler",
  intervalMs: (ctx) => ctx.config.schedulerIntervalMs,
  tick: (ctx) => runSchedulerPass(ctx),
};
