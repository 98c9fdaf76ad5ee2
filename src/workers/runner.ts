import type { AppContext } from "../context.js";

/**
 * A background loop: one file each, a declared interval and a lock so that one replica runs each tick.
 * `tick` must be safe to run at any time and return quickly enough to stay within its interval.
 */
export interface Worker {
  name: string;
  intervalMs(ctx: AppContext): number;
  tick(ctx: AppContext): Promise<unknown>;
}

export class WorkerRunner {
  private timers = new Map<string, NodeJS.Timeout>();
  private running = new Map<string, Promise<unknown>>();
  private kicked = new Set<string>();
  private stopped = false;
  /** Kicks are ignored until start(): a server built with workers off (tests) runs ticks only by hand. */
  private started = false;

  constructor(
    private ctx: AppContext,
    private workers: Worker[],
  ) {}

  start(): void {
    this.started = true;
    for (const worker of this.workers) this.schedule(worker, worker.intervalMs(this.ctx));
  }

  /** Runs a tick soon (coalescing repeated kicks), e.g. the scheduler right after a submit. */
  kick(name: string): void {
    const worker = this.workers.find((w) => w.name === name);
    if (!worker || this.stopped || !this.started) return;
    if (this.running.has(name)) {
      this.kicked.add(name); // run once more when the current tick ends
      return;
    }
    this.schedule(worker, 0);
  }

  /** Runs one tick now under the worker's lock; undefined if another replica holds it. */
  async runOnce(name: string): Promise<unknown> {
    const worker = this.workers.find((w) => w.name === name);
    if (!worker) throw new Error(`no worker named ${name}`);
    return this.ctx.database.tryWithLock(`gpuplane:worker:${name}`, () => worker.tick(this.ctx));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.running.values()]);
  }

  private schedule(worker: Worker, delay: number): void {
    if (this.stopped) return;
    clearTimeout(this.timers.get(worker.name));
    const timer = setTimeout(() => this.fire(worker), delay);
    timer.unref();
    this.timers.set(worker.name, timer);
  }

  private async fire(worker: Worker): Promise<void> {
    const run = this.runOnce(worker.name).catch((error) =>
      this.ctx.log.error({ err: error, worker: worker.name }, "worker tick failed"),
    );
    this.running.set(worker.name, run);
    await run;
    this.running.delete(worker.name);
    if (this.kicked.delete(worker.name)) this.schedule(worker, 0);
    else this.schedule(worker, worker.intervalMs(this.ctx));
  }
}
