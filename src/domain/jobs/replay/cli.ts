import { parseArgs } from "node:util";
import { type FillResult, fill, fillPolicies } from "./fill.js";
import { policies as allPolicies, type Policy, type ReplayResult, replay } from "./simulate.js";
import { loadTrace, ReplayInputError, type Trace } from "./trace.js";

export interface ReplayReport {
  trace: {
    nodes: number;
    gpus: number;
    tasks: number;
    fractional_rounded_up: number;
    unplaceable: number;
    skipped_cpu_only: number;
    skipped_never_scheduled: number;
  };
  arrival_scale: number;
  node_fraction: number;
  results: ReplayResult[];
  /** gpuplane against each baseline that ran: ratios < 1 mean gpuplane's delay is lower. */
  comparison?: Partial<Record<"fifo" | "greedy", Comparison>>;
}

export interface Comparison {
  mean_delay_ratio: number | null;
  p99_delay_ratio: number | null;
  gpuplane_better_mean: boolean;
  gpuplane_better_p99: boolean;
}

export function runReplay(options: {
  nodes: string;
  tasks: string;
  policies: Policy[];
  arrivalScale?: number;
  nodeFraction?: number;
  limit?: number;
  maxReservations?: number;
}): ReplayReport {
  const trace = loadTrace(options.nodes, options.tasks, options.limit, options.nodeFraction);
  if (!trace.timed) {
    throw new ReplayInputError(
      `${options.tasks}: row 1: no creation_time/deletion_time/scheduled_time/qos columns: a list without times can only be filled (--fill)`,
    );
  }
  return replayTrace(trace, options);
}

/** runReplay on a trace already loaded (the bench replays subsamples of a list). */
export function replayTrace(
  trace: Trace,
  options: { policies: Policy[]; arrivalScale?: number; nodeFraction?: number; maxReservations?: number },
): ReplayReport {
  const arrivalScale = options.arrivalScale ?? 1;
  const results = options.policies.map((p) =>
    replay(trace, p, { arrivalScale, maxReservations: options.maxReservations }),
  );
  const report: ReplayReport = {
    trace: {
      nodes: trace.nodes.length,
      gpus: trace.nodes.reduce((s, n) => s + n.gpus, 0),
      tasks: trace.tasks.length,
      fractional_rounded_up: trace.tasks.filter((t) => t.fractional).length,
      unplaceable: results[0]?.unplaceable ?? 0,
      skipped_cpu_only: trace.skipped.cpuOnly,
      skipped_never_scheduled: trace.skipped.neverScheduled,
    },
    arrival_scale: arrivalScale,
    node_fraction: options.nodeFraction ?? 1,
    results,
  };
  const ours = results.find((r) => r.policy === "gpuplane");
  const ratio = (a: number, b: number) => (b === 0 ? null : Number((a / b).toFixed(3)));
  for (const base of ["fifo", "greedy"] as const) {
    const other = results.find((r) => r.policy === base);
    if (!ours || !other) continue;
    report.comparison ??= {};
    report.comparison[base] = {
      mean_delay_ratio: ratio(ours.queueing_delay_s.mean, other.queueing_delay_s.mean),
      p99_delay_ratio: ratio(ours.queueing_delay_s.p99, other.queueing_delay_s.p99),
      gpuplane_better_mean: ours.queueing_delay_s.mean < other.queueing_delay_s.mean,
      gpuplane_better_p99: ours.queueing_delay_s.p99 < other.queueing_delay_s.p99,
    };
  }
  return report;
}

const usage = `usage: gpuplane replay --nodes NODES.csv --tasks TASKS.csv [options]

Replays a GPU cluster trace (the Alibaba openb 2023 lists) through gpuplane's planner and baselines in the same run.

  --nodes FILE          node list: sn, gpu, model (cpu_milli, memory_mib used by --fill)
  --tasks FILE          pod list: name, num_gpu, gpu_milli, and for a timed replay qos, creation_time,
                        deletion_time, scheduled_time (gpu_spec optional)
  --policy P            one of fifo, greedy, gpuplane (default: all three, side by side)
  --arrival-scale N     divide arrival times by N to load the cluster (default 1)
  --node-fraction F     replay on this share of the nodes, spread over the list (default 1)
  --limit N             only the first N GPU tasks
  --max-reservations N  the planner's reservation limit
  --fill                fill experiment: place tasks in list order until the first that does not fit, and report
                        allocated and stranded GPUs for gpuplane, first-fit, best-fit and random-fit
  --seed N              random-fit's seed (default 1)
  --json                print the report as JSON
  -h, --help            this text

Input errors are printed as one line naming the file, row and column; the exit code is then 2.
`;

/** The CLI's own input errors (flags): printed like a trace error, exit 2. */
class UsageError extends Error {}

/** `gpuplane replay …`: see `usage`. Every input error is one line on stderr and exit code 2. */
export async function runReplayCli(args: string[]): Promise<void> {
  try {
    process.stdout.write(replayCommand(args));
  } catch (error) {
    if (!(error instanceof ReplayInputError || error instanceof UsageError)) throw error;
    process.stderr.write(`gpuplane replay: ${error.message}\n`);
    process.exitCode = 2;
  }
}

function replayCommand(args: string[]): string {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args,
      options: {
        nodes: { type: "string" },
        tasks: { type: "string" },
        policy: { type: "string" },
        "arrival-scale": { type: "string" },
        "node-fraction": { type: "string" },
        limit: { type: "string" },
        "max-reservations": { type: "string" },
        fill: { type: "boolean", default: false },
        seed: { type: "string" },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    }).values;
  } catch (error) {
    throw new UsageError(`${(error as Error).message} (see gpuplane replay --help)`);
  }
  if (values.help) return usage;
  if (!values.nodes || !values.tasks) throw new UsageError("--nodes and --tasks are required (see --help)");
  const num = (flag: string, min: number, max = Number.POSITIVE_INFINITY) => {
    const v = values[flag];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (typeof v !== "string" || v === "" || !Number.isFinite(n) || n < min || n > max) {
      throw new UsageError(`--${flag}: '${v}' must be a number from ${min}${max < Infinity ? ` to ${max}` : ""}`);
    }
    return n;
  };
  const nodes = values.nodes as string;
  const tasks = values.tasks as string;
  if (values.fill) {
    const report = runFill({
      nodes,
      tasks,
      nodeFraction: num("node-fraction", 0.001, 1),
      limit: num("limit", 1),
      seed: num("seed", 0),
    });
    return values.json ? `${JSON.stringify(report, null, 2)}\n` : formatFill(report);
  }
  const policy = values.policy as string | undefined;
  if (policy !== undefined && !allPolicies.includes(policy as Policy)) {
    throw new UsageError(`--policy: '${policy}' must be one of ${allPolicies.join(", ")}`);
  }
  const report = runReplay({
    nodes,
    tasks,
    policies: policy ? [policy as Policy] : allPolicies,
    arrivalScale: num("arrival-scale", 0.000001),
    nodeFraction: num("node-fraction", 0.001, 1),
    limit: num("limit", 1),
    maxReservations: num("max-reservations", 0),
  });
  return values.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report);
}

export interface FillReport {
  trace: { nodes: number; gpus: number; tasks: number; fractional_rounded_up: number };
  node_fraction: number;
  results: FillResult[];
}

export function runFill(options: {
  nodes: string;
  tasks: string;
  nodeFraction?: number;
  limit?: number;
  seed?: number;
}): FillReport {
  const trace = loadTrace(options.nodes, options.tasks, options.limit, options.nodeFraction);
  return {
    trace: {
      nodes: trace.nodes.length,
      gpus: trace.nodes.reduce((s, n) => s + n.gpus, 0),
      tasks: trace.tasks.length,
      fractional_rounded_up: trace.tasks.filter((t) => t.fractional).length,
    },
    node_fraction: options.nodeFraction ?? 1,
    results: fillPolicies.map((p) => fill(trace, p, options.seed ?? 1)),
  };
}

export function formatFill(report: FillReport): string {
  const t = report.trace;
  const lines = [
    `fill: ${t.tasks} GPU tasks in list order on ${t.nodes} nodes (${t.gpus} GPUs); ${t.fractional_rounded_up} ` +
      "fractional tasks take a whole GPU",
    "",
    "policy      placed  stopped at  GPUs allocated   stranded GPUs (free, no remaining task fits)  wall",
  ];
  for (const r of report.results) {
    lines.push(
      `${r.policy.padEnd(11)} ${String(r.placed).padEnd(7)} ${String(r.stopped_at ?? "-").padEnd(11)} ` +
        `${`${r.allocated_gpus} (${r.allocated_pct}%)`.padEnd(16)} ` +
        `${`${r.stranded_gpus} (${r.stranded_pct}%)`.padEnd(45)} ${r.wall_ms} ms`,
    );
  }
  return `${lines.join("\n")}\n`;
}

export function formatReport(report: ReplayReport): string {
  const t = report.trace;
  const lines = [
    `trace: ${t.tasks} GPU tasks on ${t.nodes} nodes (${t.gpus} GPUs); ${t.fractional_rounded_up} fractional tasks ` +
      `rounded up to a whole GPU; left out: ${t.skipped_cpu_only} CPU-only, ${t.skipped_never_scheduled} never ` +
      `scheduled, ${t.unplaceable} larger than any node`,
    `arrivals compressed ×${report.arrival_scale}; ${report.node_fraction * 100}% of the nodes`,
    "",
    "policy     delay mean    p50      p99      waited  alloc mean  peak    idle GPUs while waiting  wall",
  ];
  for (const r of report.results) {
    const d = r.queueing_delay_s;
    lines.push(
      `${r.policy.padEnd(10)} ${`${d.mean}s`.padEnd(13)} ${`${d.p50}s`.padEnd(8)} ${`${d.p99}s`.padEnd(8)} ` +
        `${String(d.waited).padEnd(7)} ${`${r.gpu_allocation.mean_pct}%`.padEnd(11)} ` +
        `${`${r.gpu_allocation.peak_pct}%`.padEnd(7)} ` +
        `${`${r.idle_while_waiting.mean_idle_gpus} (${r.idle_while_waiting.idle_gpu_hours} GPU-h)`.padEnd(24)} ` +
        `${r.wall_ms} ms`,
    );
  }
  if (report.results.length > 1) {
    lines.push(
      "",
      "delay by priority (qos)   tasks  " +
        report.results.map((r) => `${r.policy} mean / p50 / p99`.padEnd(30)).join(""),
    );
    const classes = report.results[0].delay_by_priority;
    for (const c of classes) {
      const cells = report.results.map((r) => {
        const x = r.delay_by_priority.find((y) => y.priority === c.priority);
        return (x ? `${x.mean}s / ${x.p50}s / ${x.p99}s` : "-").padEnd(30);
      });
      lines.push(`${`${c.priority} (${c.qos})`.padEnd(25)} ${String(c.tasks).padEnd(6)} ${cells.join("")}`);
    }
  } else {
    lines.push("", "delay by priority (qos)   tasks  mean / p50 / p99");
    for (const c of report.results[0]?.delay_by_priority ?? []) {
      lines.push(
        `${`${c.priority} (${c.qos})`.padEnd(25)} ${String(c.tasks).padEnd(6)} ${c.mean}s / ${c.p50}s / ${c.p99}s`,
      );
    }
  }
  if (report.comparison) lines.push("");
  for (const [base, c] of Object.entries(report.comparison ?? {})) {
    const verdict =
      c.mean_delay_ratio === null && c.p99_delay_ratio === null
        ? `no delay under ${base} to compare`
        : c.gpuplane_better_mean && c.gpuplane_better_p99
          ? "gpuplane lower on both"
          : c.gpuplane_better_mean || c.gpuplane_better_p99
            ? `gpuplane lower on ${c.gpuplane_better_mean ? "mean" : "p99"} only`
            : "gpuplane not lower";
    lines.push(
      `gpuplane vs ${base}: mean delay ×${c.mean_delay_ratio ?? "n/a"}, ` +
        `p99 ×${c.p99_delay_ratio ?? "n/a"} (${verdict})`,
    );
  }
  return `${lines.join("\n")}\n`;
}
