import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";

/** A node of the trace: its GPU count and model, and the CPU and memory the fill experiment also packs. */
export interface TraceNode {
  name: string;
  gpus: number;
  model: string;
  cpuMilli: number;
  memoryMib: number;
}

/** A task of the trace as the replay submits it. */
export interface TraceTask {
  id: number;
  name: string;
  /** Submit time, seconds from the trace's start (0 in a list without times). */
  arrival: number;
  /** Run time in seconds: deletion_time - scheduled_time in the original cluster (0 in a list without times). */
  duration: number;
  /** Whole GPUs: a fractional task (gpu_milli < 1000) is rounded up to one GPU of its own. */
  gpus: number;
  fractional: boolean;
  /** 1 = highest, from qos: Guaranteed 1, LS 2, Burstable 3, BE 4 (4 when the list has no qos). */
  priority: number;
  /** Allowed GPU models (gpu_spec, '|'-separated); empty = any. */
  models: string[];
  cpuMilli: number;
  memoryMib: number;
}

export interface Trace {
  nodes: TraceNode[];
  tasks: TraceTask[];
  skipped: { cpuOnly: number; neverScheduled: number };
  /** False for a list without creation/deletion times (the multigpu lists): only a fill experiment can use it. */
  timed: boolean;
}

/** A problem with an input file, named by file, row (1 = the header) and column; the CLI prints it and exits 2. */
export class ReplayInputError extends Error {}

const qosPriority: Record<string, number> = { Guaranteed: 1, LS: 2, Burstable: 3, BE: 4 };

interface Csv {
  path: string;
  names: string[];
  rows: string[][];
}

function readCsv(path: string, required: string[]): Csv {
  let text: string;
  try {
    const bytes = readFileSync(path);
    // The bench keeps the lists it replays gzipped (bench/replay-traces/): read .gz as the CSV it holds.
    text = (path.endsWith(".gz") ? gunzipSync(bytes) : bytes).toString("utf8");
  } catch (error) {
    if (error instanceof Error && "code" in error && String(error.code).startsWith("Z_")) {
      throw new ReplayInputError(`${path}: not a readable gzip file (${error.message})`);
    }
    throw new ReplayInputError(`${path}: cannot read: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
  const lines = text.split(/\r?\n/);
  while (lines.length && lines[lines.length - 1] === "") lines.pop();
  if (!lines.length) throw new ReplayInputError(`${path}: row 1: empty file, expected a header row`);
  const names = lines[0].split(",").map((n) => n.trim());
  const missing = required.filter((c) => !names.includes(c));
  if (missing.length) {
    throw new ReplayInputError(
      `${path}: row 1: missing column${missing.length > 1 ? "s" : ""} ${missing.join(", ")} (found: ${names.join(", ")})`,
    );
  }
  const rows: string[][] = [];
  for (let i = 1; i < lines.length; i++) {
    const cells = lines[i].split(",");
    if (cells.length !== names.length) {
      throw new ReplayInputError(`${path}: row ${i + 1}: ${cells.length} cells, the header has ${names.length}`);
    }
    rows.push(cells);
  }
  return { path, names, rows };
}

/** Reads one row's cells by column name, each parse failure an error naming file, row and column. */
function cellReader(csv: Csv) {
  const at = new Map(csv.names.map((n, i) => [n, i]));
  return (row: number, column: string) => {
    const text = (csv.rows[row][at.get(column) ?? -1] ?? "").trim();
    const where = `${csv.path}: row ${row + 2}, column ${column}`;
    return {
      text,
      number(options: { optional?: boolean; min?: number } = {}): number | undefined {
        if (text === "" && options.optional) return undefined;
        const n = Number(text);
        if (text === "" || !Number.isFinite(n) || n < (options.min ?? 0)) {
          throw new ReplayInputError(`${where}: '${text}' is not a number ≥ ${options.min ?? 0}`);
        }
        return n;
      },
    };
  };
}

export function loadNodes(path: string, nodeFraction = 1): TraceNode[] {
  const csv = readCsv(path, ["sn", "gpu", "model"]);
  const cell = cellReader(csv);
  const nodes = csv.rows.map((_, r) => ({
    name: cell(r, "sn").text,
    gpus: cell(r, "gpu").number()!,
    model: cell(r, "model").text,
    cpuMilli: csv.names.includes("cpu_milli") ? cell(r, "cpu_milli").number()! : Number.POSITIVE_INFINITY,
    memoryMib: csv.names.includes("memory_mib") ? cell(r, "memory_mib").number()! : Number.POSITIVE_INFINITY,
  }));
  // A fraction of the nodes, spread evenly over the list so the model mix is kept (a smaller cluster, same shape).
  return nodes.filter((_, i) => Math.floor((i + 1) * nodeFraction) > Math.floor(i * nodeFraction));
}

const timeColumns = ["qos", "creation_time", "deletion_time", "scheduled_time"];

/**
 * Reads the Alibaba openb node and pod lists. CPU-only tasks (num_gpu 0) do not need the GPU scheduler and are
 * left out; so are tasks the original cluster never scheduled (no scheduled_time: their run time is unknown).
 * A pod list without the time columns (the multigpu lists) loads with `timed` false, in list order.
 * `limit` keeps the first N tasks (a slice for tests); `nodeFraction` replays on that share of the nodes.
 */
export function loadTrace(nodesPath: string, tasksPath: string, limit?: number, nodeFraction = 1): Trace {
  const nodes = loadNodes(nodesPath, nodeFraction);
  const csv = readCsv(tasksPath, ["name", "num_gpu", "gpu_milli"]);
  const timed = timeColumns.every((c) => csv.names.includes(c));
  const has = (c: string) => csv.names.includes(c);
  const cell = cellReader(csv);
  const tasks: TraceTask[] = [];
  const skipped = { cpuOnly: 0, neverScheduled: 0 };
  for (let r = 0; r < csv.rows.length; r++) {
    if (limit !== undefined && tasks.length >= limit) break;
    const numGpu = cell(r, "num_gpu").number()!;
    const milli = cell(r, "gpu_milli").number({ optional: true }) ?? 0;
    if (numGpu === 0 && milli === 0) {
      skipped.cpuOnly++;
      continue;
    }
    let arrival = 0;
    let duration = 0;
    if (timed) {
      const scheduledAt = cell(r, "scheduled_time").number({ optional: true });
      if (scheduledAt === undefined) {
        skipped.neverScheduled++;
        continue;
      }
      arrival = cell(r, "creation_time").number()!;
      duration = Math.max(1, cell(r, "deletion_time").number()! - scheduledAt);
    }
    const qos = has("qos") ? cell(r, "qos").text : "";
    if (qos !== "" && !(qos in qosPriority)) {
      throw new ReplayInputError(
        `${tasksPath}: row ${r + 2}, column qos: '${qos}' is not one of ${Object.keys(qosPriority).join(", ")}`,
      );
    }
    const spec = has("gpu_spec") ? cell(r, "gpu_spec").text : "";
    tasks.push({
      id: tasks.length + 1,
      name: cell(r, "name").text,
      arrival,
      duration,
      gpus: Math.max(1, numGpu),
      fractional: numGpu <= 1 && milli > 0 && milli < 1000,
      priority: qosPriority[qos] ?? 4,
      models: spec ? spec.split("|") : [],
      cpuMilli: has("cpu_milli") ? cell(r, "cpu_milli").number()! : 0,
      memoryMib: has("memory_mib") ? cell(r, "memory_mib").number()! : 0,
    });
  }
  if (timed) tasks.sort((a, b) => a.arrival - b.arrival || a.id - b.id);
  return { nodes, tasks, skipped, timed };
}
