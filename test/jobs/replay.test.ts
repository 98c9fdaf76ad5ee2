import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { runFill, runReplay } from "../../src/domain/jobs/replay/cli.js";
import { type Policy, replay } from "../../src/domain/jobs/replay/simulate.js";
import { loadTrace, ReplayInputError, type Trace, type TraceTask } from "../../src/domain/jobs/replay/trace.js";

const task = (id: number, arrival: number, gpus: number, duration: number, priority = 2): TraceTask => ({
  id,
  name: `t${id}`,
  arrival,
  duration,
  gpus,
  fractional: false,
  priority,
  models: [],
  cpuMilli: 0,
  memoryMib: 0,
});

describe("replay baselines", () => {
  // One node of 2 GPUs. A (1 GPU) runs 0–100; B (2 GPUs) arrives at 1 and cannot fit until A ends; C (1 GPU)
  // arrives at 2 and fits in the free GPU at once.
  const trace: Trace = {
    nodes: [{ name: "n1", gpus: 2, model: "G2", cpuMilli: 64_000, memoryMib: 262_144 }],
    tasks: [task(1, 0, 1, 100), task(2, 1, 2, 10), task(3, 2, 1, 10)],
    skipped: { cpuOnly: 0, neverScheduled: 0 },
    timed: true,
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

describe("idle while waiting", () => {
  const node = (name: string, gpus: number, model: string) => ({ name, gpus, model, cpuMilli: 1e6, memoryMib: 1e6 });
  const typed = (t: TraceTask, models: string[]) => ({ ...t, models });

  it("counts only free GPUs a waiting task could use: matching model, enough on one node", () => {
    // T4 node (1 GPU) busy 0–100 with task 1; task 2 (T4 only) waits for it while the 4 G2 GPUs stand free: they
    // are of no use to it, so nothing is idle. Task 3 (2 GPUs, any model) then fits at once on G2.
    const trace: Trace = {
      nodes: [node("t4", 1, "T4"), node("g2", 4, "G2")],
      tasks: [typed(task(1, 0, 1, 100), ["T4"]), typed(task(2, 1, 1, 10), ["T4"]), task(3, 2, 2, 10)],
      skipped: { cpuOnly: 0, neverScheduled: 0 },
      timed: true,
    };
    for (const policy of ["greedy", "gpuplane"] as Policy[]) {
      expect(replay(trace, policy).idle_while_waiting.idle_gpu_hours).toBe(0);
    }
    // Plain FIFO holds task 3 behind the waiting head from 2 to 100: then the 4 free G2 GPUs could have run it,
    // and they count, once each: 4 GPUs × 98 s of the 99 s during which a task waited.
    const fifo = replay(trace, "fifo").idle_while_waiting;
    expect(fifo.mean_idle_gpus).toBe(Number(((4 * 98) / 99).toFixed(1)));
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

  it("at ×100 on 10% of the nodes gpuplane waits less than both baselines: mean, p99 and every class's mean", () => {
    const policies: Policy[] = ["fifo", "greedy", "gpuplane"];
    const asRecorded = runReplay({ nodes, tasks, policies });
    const loaded = runReplay({ nodes, tasks, policies, arrivalScale: 100, nodeFraction: 0.1 });
    // As recorded the trace never fills its cluster: no task waits under any policy.
    expect(asRecorded.results.every((r) => r.queueing_delay_s.max === 0)).toBe(true);
    const [fifo, greedy, ours] = loaded.results;
    expect(loaded.comparison!.fifo).toMatchObject({ gpuplane_better_mean: true, gpuplane_better_p99: true });
    expect(loaded.comparison!.greedy).toMatchObject({ gpuplane_better_mean: true, gpuplane_better_p99: true });
    for (const c of ours.delay_by_priority) {
      for (const base of [fifo, greedy]) {
        expect(c.mean).toBeLessThanOrEqual(base.delay_by_priority.find((x) => x.priority === c.priority)!.mean);
      }
    }
    // Honest idle: greedy first fit never leaves a GPU free that a waiting task could use; plain FIFO does (its
    // blocked head holds back tasks that would fit); gpuplane only while a node drains for a reservation.
    expect(greedy.idle_while_waiting.mean_idle_gpus).toBe(0);
    expect(fifo.idle_while_waiting.mean_idle_gpus).toBeGreaterThan(50);
    expect(ours.idle_while_waiting.mean_idle_gpus).toBeLessThan(5);
  }, 120_000);
});

describe("replay input", () => {
  const tmp = mkdtempSync(join(tmpdir(), "gp-replay-"));
  const write = (name: string, text: string) => {
    const path = join(tmp, name);
    writeFileSync(path, text);
    return path;
  };
  const goodNodes = write("nodes.csv", "sn,cpu_milli,memory_mib,gpu,model\nn1,64000,262144,2,G2\nn2,8000,16384,4,T4\n");
  const header =
    "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time";

  it("names the file, row and column of a cell that does not parse", () => {
    const bad = write(
      "bad.csv",
      `${header}\np0,1000,1024,1,1000,,LS,Running,0,10,0\np1,1000,1024,two,1000,,LS,Running,1,9,1\n`,
    );
    expect(() => loadTrace(goodNodes, bad)).toThrow(
      new ReplayInputError(`${bad}: row 3, column num_gpu: 'two' is not a number ≥ 0`),
    );
  });

  it("names a missing column, a short row, an unknown qos and a missing file", () => {
    const noGpu = write("nogpu.csv", "name,cpu_milli\np0,1000\n");
    expect(() => loadTrace(goodNodes, noGpu)).toThrow(/nogpu\.csv: row 1: missing columns num_gpu, gpu_milli/);
    const short = write("short.csv", `${header}\np0,1000,1024,1\n`);
    expect(() => loadTrace(goodNodes, short)).toThrow(/short\.csv: row 2: 4 cells, the header has 11/);
    const qos = write("qos.csv", `${header}\np0,1000,1024,1,1000,,Gold,Running,0,10,0\n`);
    expect(() => loadTrace(goodNodes, qos)).toThrow(/qos\.csv: row 2, column qos: 'Gold' is not one of/);
    expect(() => loadTrace(join(tmp, "none.csv"), qos)).toThrow(/none\.csv: cannot read: ENOENT/);
  });

  it("refuses a list without times for a timed replay, and fills it", () => {
    const untimed = write(
      "fill.csv",
      "name,cpu_milli,memory_mib,num_gpu,gpu_milli\na,1000,1024,2,1000\nb,1000,1024,4,1000\nc,1000,1024,2,1000\nd,1000,1024,1,1000\n",
    );
    expect(() => runReplay({ nodes: goodNodes, tasks: untimed, policies: ["greedy"] })).toThrow(
      /fill\.csv: row 1: .*--fill/,
    );
    const report = runFill({ nodes: goodNodes, tasks: untimed });
    const ff = report.results.find((r) => r.policy === "first-fit")!;
    // a → n1 (2 GPUs), b → n2 (4), c fits nowhere: stop at row 3 with 6 of 6 GPUs allocated.
    expect(ff).toMatchObject({ placed: 2, stopped_at: 3, allocated_gpus: 6, stranded_gpus: 0 });
  });

  it("counts GPUs stranded by CPU: free, but no remaining task fits on their node", () => {
    // n2 has 8000 milli-CPU: after one 6000-CPU task its 2 free GPUs are stranded, and n1 keeps 1 a 2-GPU task cannot use.
    const cpu = write(
      "cpu.csv",
      "name,cpu_milli,memory_mib,num_gpu,gpu_milli\na,6000,1024,1,1000\nb,6000,1024,2,1000\nc,6000,1024,2,1000\n",
    );
    const ff = runFill({ nodes: goodNodes, tasks: cpu }).results.find((r) => r.policy === "first-fit")!;
    // a → n1 (1 of 2 GPUs), b → n2 (2 of 4, 2000 CPU left), c: n1 has 1 GPU, n2 too little CPU → stop.
    expect(ff).toMatchObject({ placed: 2, stopped_at: 3, allocated_gpus: 3, stranded_gpus: 3 });
  });
});

describe("gzipped lists (bench/replay-traces/)", () => {
  it("reads a .csv.gz list as the CSV it holds, and names a corrupt one", () => {
    const dir = mkdtempSync(join(tmpdir(), "replay-gz-"));
    const nodes = join(dir, "nodes.csv");
    writeFileSync(nodes, "sn,gpu,model\nn1,8,V100M16\n");
    const csv =
      "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n" +
      "p1,1000,1024,2,1000,,LS,Running,10,110,20\np2,1000,1024,1,500,,BE,Running,5,50,6\n";
    writeFileSync(join(dir, "tasks.csv"), csv);
    writeFileSync(join(dir, "tasks.csv.gz"), gzipSync(csv));
    writeFileSync(join(dir, "bad.csv.gz"), "not gzip");
    const plain = loadTrace(nodes, join(dir, "tasks.csv"));
    const gz = loadTrace(nodes, join(dir, "tasks.csv.gz"));
    expect(gz.tasks).toEqual(plain.tasks);
    expect(gz.tasks.map((t) => t.name)).toEqual(["p2", "p1"]);
    expect(() => loadTrace(nodes, join(dir, "bad.csv.gz"))).toThrow(/bad\.csv\.gz: not a readable gzip file/);
  });
});
