import { parseArgs } from "node:util";
import { policies as allPolicies, type Policy, type ReplayResult, replay } from "./simulate.js";
import { loadTrace } from "./trace.js";

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

const usage =
  "usage: gpuplane replay --nodes NODES.csv --tasks TASKS.csv [--policy fifo|greedy|gpuplane] [--arrival-scale N] [--node-fraction F] " +
  "[--limit N] [--json]";

/**
 * `gpuplane replay --nodes NODES.csv --tasks TASKS.csv [--policy fifo|greedy|gpuplane] [--json]`; without
 * --policy all three run in the same process and a comparison table is printed.
 */
export async function runReplayCli(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      nodes: { type: "string" },
      tasks: { type: "string" },
      policy: { type: "string" },
      "arrival-scale": { type: "string" },
      "node-fraction": { type: "string" },
      limit: { type: "string" },
      "max-reservations": { type: "string" },
      json: { type: "boolean", default: false },
    },
  });
  if (!values.nodes || !values.tasks) throw new Error(usage);
  if (values.policy && !allPolicies.includes(values.policy as Policy)) {
    throw new Error(`--policy must be one of ${allPolicies.join(", ")}\n${usage}`);
  }
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  const report = runReplay({
    nodes: values.nodes,
    tasks: values.tasks,
    policies: values.policy ? [values.policy as Policy] : allPolicies,
    arrivalScale: num(values["arrival-scale"]),
    nodeFraction: num(values["node-fraction"]),
    limit: num(values.limit),
    maxReservations: num(values["max-reservations"]),
  });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  process.stdout.write(formatReport(report));
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
