import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { runReplay } from "../../src/domain/jobs/replay/cli.js";
import { type Policy, replay } from "../../src/domain/jobs/replay/simulate.js";
import type { Trace, TraceTask } from "../../src/domain/jobs/replay/trace.js";

const task = (id: number, arrival: number, gpus: number, duration: number, priority = 2): TraceTask => ({
  id,
  name: `t${id}`,
  arrival,
  duration,
  gpus,
  fractional: false,
  priority,
  models: [],
});

describe("replay baselines", () => {
  // One node of 2 GPUs. A (1 GPU) runs 0–100; B (2 GPUs) arrives at 1 and cannot fit until A ends; C (1 GPU)
  // arrives at 2 and fits in the free GPU at once.
  const trace: Trace = {
    nodes: [{ name: "n1", gpus: 2, model: "G2" }],
    tasks: [task(1, 0, 1, 100), task(2, 1, 2, 10), task(3, 2, 1, 10)],
    skipped: { cpuOnly: 0, neverScheduled: 0 },
  };
  const delays = (policy: Policy) => replay(trace, policy).queueing_delay_s;

  it("fifo: a blocked head blocks every task behind it", () => {
    // B starts at 100 (delay 99); C waits behind B and starts when B ends at 110 (delay 108).
    expect(delays("fifo")).toMatchObject({ max: 108, waited: 2, mean: 69 });
  });

  it("greedy: a later task that fits overtakes the blocked head", () => {
    // C starts at 2 (delay 0); B still starts at 100.
    expect(delays("greedy")).toMatchObject({ max: 99, waited: 1, mean: 33 });
  });

  it("leaves out a task no node could ever hold instead of blocking FIFO forever", () => {
    const r = replay({ ...trace, tasks: [task(1, 0, 4, 10), task(2, 1, 1, 10)] }, "fifo");
    expect(r).toMatchObject({ unplaceable: 1, placed: 1 });
    expect(r.queueing_delay_s.max).toBe(0);
  });
});

const dir = "/work/shared/traces/alibaba-openb-2023";
const nodes = `${dir}/openb_node_list_gpu_node.csv`;
const tasks = `${dir}/openb_pod_list_default.csv`;

describe.skipIf(!existsSync(nodes))("trace replay", () => {
  it("replays a slice of the trace with every policy and reports the metrics", () => {
    const report = runReplay({
      nodes,
      tasks,
      policies: ["fifo", "greedy", "gpuplane"],
      limit: 400,
      nodeFraction: 0.02,
      arrivalScale: 200,
    });
    expect(report.trace.tasks).toBe(400);
    expect(report.results.map((r) => r.policy)).toEqual(["fifo", "greedy", "gpuplane"]);
    for (const r of report.results) {
      expect(r.placed).toBe(400);
      expect(r.queueing_delay_s).toEqual(
        expect.objectContaining({ mean: expect.any(Number), p50: expect.any(Number), p99: expect.any(Number) }),
      );
      expect(r.queueing_delay_s.p50).toBeLessThanOrEqual(r.queueing_delay_s.p99);
      expect(r.gpu_allocation.series_pct).toHaveLength(20);
      expect(r.gpu_allocation.peak_pct).toBeLessThanOrEqual(100);
      expect(r.idle_while_waiting.mean_idle_gpus).toBeGreaterThanOrEqual(0);
      expect(r.delay_by_priority.reduce((n, c) => n + c.tasks, 0)).toBe(400);
    }
    expect(Object.keys(report.comparison ?? {})).toEqual(["fifo", "greedy"]);
  });

  it("the full trace replays under 10 s; recorded honestly how gpuplane compares with both baselines", () => {
    const policies: Policy[] = ["fifo", "greedy", "gpuplane"];
    const t0 = performance.now();
    const asRecorded = runReplay({ nodes, tasks, policies });
    const t1 = performance.now();
    const loaded = runReplay({ nodes, tasks, policies, arrivalScale: 100, nodeFraction: 0.1 });
    expect(t1 - t0).toBeLessThan(10_000);
    expect(performance.now() - t1).toBeLessThan(10_000);
    // As recorded the trace never fills its cluster: no task waits under any policy.
    expect(asRecorded.results.every((r) => r.queueing_delay_s.max === 0)).toBe(true);
    const [fifo, greedy, ours] = loaded.results;
    // Against plain FIFO (the head blocks), gpuplane is lower on mean and p99, and leaves fewer GPUs idle.
    expect(loaded.comparison!.fifo).toMatchObject({ gpuplane_better_mean: true, gpuplane_better_p99: true });
    expect(ours.idle_while_waiting.idle_gpu_hours).toBeLessThan(fifo.idle_while_waiting.idle_gpu_hours);
    expect(ours.idle_while_waiting.idle_gpu_hours).toBeLessThan(greedy.idle_while_waiting.idle_gpu_hours);
    // Greedy first fit (later tasks overtake) is the stronger baseline: at this load gpuplane's priority order
    // makes best-effort tasks wait, and it does NOT beat greedy's p99 (see README, Benchmarks). Recorded:
    expect(loaded.comparison!.greedy!.gpuplane_better_p99).toBe(false);
    // ...while the highest classes wait less than under greedy.
    const cls = (r: typeof ours, p: number) => r.delay_by_priority.find((c) => c.priority === p)!;
    expect(cls(ours, 2).mean).toBeLessThan(cls(greedy, 2).mean);
  }, 60_000);
});
