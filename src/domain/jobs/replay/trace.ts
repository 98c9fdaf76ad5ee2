import { readFileSync } from "node:fs";

/** A node of the trace: its GPU count and model. */
export interface TraceNode {
  name: string;
  gpus: number;
  model: string;
}

/** A task of the trace as the replay submits it. */
export interface TraceTask {
  id: number;
  name: string;
  /** Submit time, seconds from the trace's start. */
  arrival: number;
  /** Run time in seconds: deletion_time - scheduled_time in the original cluster. */
  duration: number;
  /** Whole GPUs: a fractional task (gpu_milli < 1000) is rounded up to one GPU of its own. */
  gpus: number;
  fractional: boolean;
  /** 1 = highest, from qos: Guaranteed 1, LS 2, Burstable 3, BE 4. */
  priority: number;
  /** Allowed GPU models (gpu_spec, '|'-separated); empty = any. */
  models: string[];
}

export interface Trace {
  nodes: TraceNode[];
  tasks: TraceTask[];
  skipped: { cpuOnly: number; neverScheduled: number };
}

const qosPriority: Record<string, number> = { Guaranteed: 1, LS: 2, Burstable: 3, BE: 4 };

function parseCsv(path: string): Record<string, string>[] {
  const [header, ...lines] = readFileSync(path, "utf8").split(/\r?\n/).filter(Boolean);
  const names = header.split(",");
  return lines.map((line) => {
    const cells = line.split(",");
    return Object.fromEntries(names.map((n, i) => [n, cells[i] ?? ""]));
  });
}

/**
 * Reads the Alibaba openb node and pod lists. CPU-only tasks (num_gpu 0) do not need the GPU scheduler and are
 * left out; so are tasks the original cluster never scheduled (no scheduled_time: their run time is unknown).
 * `limit` keeps the first N tasks (a slice for tests); `nodeFraction` replays on that share of the nodes.
 */
export function loadTrace(nodesPath: string, tasksPath: string, limit?: number, nodeFraction = 1): Trace {
  // A fraction of the nodes, spread evenly over the list so the model mix is kept (a smaller cluster, same shape).
  const nodes = parseCsv(nodesPath)
    .map((r) => ({ name: r.sn, gpus: Number(r.gpu), model: r.model }))
    .filter((_, i) => Math.floor((i + 1) * nodeFraction) > Math.floor(i * nodeFraction));
  const tasks: TraceTask[] = [];
  const skipped = { cpuOnly: 0, neverScheduled: 0 };
  for (const r of parseCsv(tasksPath)) {
    if (limit !== undefined && tasks.length >= limit) break;
    const numGpu = Number(r.num_gpu);
    const milli = Number(r.gpu_milli || 0);
    if (numGpu === 0 && milli === 0) {
      skipped.cpuOnly++;
      continue;
    }
    if (r.scheduled_time === "") {
      skipped.neverScheduled++;
      continue;
    }
    tasks.push({
      id: tasks.length + 1,
      name: r.name,
      arrival: Number(r.creation_time),
      duration: Math.max(1, Number(r.deletion_time) - Number(r.scheduled_time)),
      gpus: Math.max(1, numGpu),
      fractional: numGpu <= 1 && milli > 0 && milli < 1000,
      priority: qosPriority[r.qos] ?? 4,
      models: r.gpu_spec ? r.gpu_spec.split("|") : [],
    });
  }
  tasks.sort((a, b) => a.arrival - b.arrival || a.id - b.id);
  return { nodes, tasks, skipped };
}
