import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import type { StateDir } from "./state.js";
import type { JobAssignment } from "./wire.js";

/** What the agent keeps about a job it started, in jobs/<id>/job.json. */
export interface JobRecord {
  id: number;
  pid: number;
  gpuIndices: number[];
  startedAt: string;
  /** Set once the job ended; `reported` once the server acknowledged the final status. */
  finished?: { exitCode: number | null; signal: string | null; at: string; killed: boolean };
  reported?: boolean;
  /** The agent is stopping it (cancelled, drain): its end is reported as killed, whoever notices it first. */
  stopping?: boolean;
}

export interface JobResult {
  id: number;
  status: "completed" | "failed" | "killed";
  exitCode: number | null;
  signal: string | null;
  outputTail: string;
}

const OUTPUT_TAIL_BYTES = 4096;

/**
 * Runs jobs as child processes, each in its own process group, with CUDA_VISIBLE_DEVICES set to exactly its GPUs.
 * Output goes to a file, not a pipe, and the exit status is written by a wrapping shell, so a job keeps running and its
 * result is still collected when the agent restarts (the new agent adopts it from the pid file).
 */
export class JobRunner {
  private readonly state: StateDir;
  private readonly killGraceMs: number;
  private readonly records = new Map<number, JobRecord>();
  private readonly exited = new Set<number>();

  constructor(state: StateDir, killGraceMs: number) {
    this.state = state;
    this.killGraceMs = killGraceMs;
    for (const dir of state.list("jobs")) {
      const record = state.readJson<JobRecord>("jobs", dir, "job.json");
      if (record) this.records.set(record.id, record);
    }
  }

  /** Jobs started and not yet ended (as far as this agent knows). */
  running(): JobRecord[] {
    return [...this.records.values()].filter((r) => !r.finished);
  }

  /** Jobs this node has ever started and still remembers: never start these again. */
  known(id: number): boolean {
    return this.records.has(id);
  }

  unreported(): JobRecord[] {
    return [...this.records.values()].filter((r) => r.finished && !r.reported);
  }

  start(job: JobAssignment): JobRecord {
    const dir = this.state.path("jobs", String(job.id));
    this.state.writeJson({ id: job.id, pending: true }, "jobs", String(job.id), "job.json");
    const output = openSync(`${dir}/output.log`, "a");
    // The outer shell records the command's exit status; the inner one runs the command as written.
    const wrapper =
      'sh -c "$GPUPLANE_JOB_COMMAND"; code=$?; echo "$code" > "$GPUPLANE_JOB_DIR/exit_code.tmp"; mv "$GPUPLANE_JOB_DIR/exit_code.tmp" "$GPUPLANE_JOB_DIR/exit_code"; exit "$code"';
    const child = spawn("/bin/sh", ["-c", wrapper], {
      cwd: dir,
      detached: true,
      stdio: ["ignore", output, output],
      env: {
        ...process.env,
        ...job.env,
        CUDA_VISIBLE_DEVICES: job.gpu_indices.join(","),
        GPUPLANE_JOB_ID: String(job.id),
        GPUPLANE_JOB_COMMAND: job.command ?? "true",
        GPUPLANE_JOB_DIR: dir,
      },
    });
    closeSync(output);
    child.on("exit", () => this.exited.add(job.id));
    child.unref();
    const record: JobRecord = {
      id: job.id,
      pid: child.pid!,
      gpuIndices: job.gpu_indices,
      startedAt: new Date().toISOString(),
    };
    this.records.set(job.id, record);
    this.save(record);
    return record;
  }

  /** Looks at every running job; returns those that ended since the last look. */
  poll(): JobRecord[] {
    const ended: JobRecord[] = [];
    for (const record of this.running()) {
      const exitFile = this.state.path("jobs", String(record.id), "exit_code");
      const hasExit = existsSync(exitFile);
      if (!hasExit && alive(record.pid) && !this.exited.has(record.id)) continue;
      const code = hasExit ? Number.parseInt(readFileSync(exitFile, "utf8").trim(), 10) : null;
      record.finished = {
        exitCode: code !== null && Number.isFinite(code) ? code : null,
        signal: hasExit ? null : "killed",
        at: new Date().toISOString(),
        killed: Boolean(record.stopping),
      };
      this.save(record);
      ended.push(record);
    }
    return ended;
  }

  /** SIGTERM to the job's process group, SIGKILL after the grace period if anything is left. */
  async kill(id: number): Promise<void> {
    const record = this.records.get(id);
    if (!record || record.finished) return;
    record.stopping = true;
    this.save(record);
    signalGroup(record.pid, "SIGTERM");
    const deadline = Date.now() + this.killGraceMs;
    while (Date.now() < deadline && groupAlive(record.pid)) await sleep(100);
    if (groupAlive(record.pid)) signalGroup(record.pid, "SIGKILL");
    while (groupAlive(record.pid) && Date.now() < deadline + 5_000) await sleep(50);
    record.finished ??= { exitCode: null, signal: "SIGTERM", at: new Date().toISOString(), killed: true };
    this.save(record);
  }

  result(record: JobRecord): JobResult {
    const f = record.finished!;
    const status = f.killed ? "killed" : f.exitCode === 0 ? "completed" : "failed";
    return { id: record.id, status, exitCode: f.exitCode, signal: f.signal, outputTail: this.outputTail(record.id) };
  }

  markReported(id: number): void {
    const record = this.records.get(id);
    if (!record) return;
    record.reported = true;
    this.save(record);
  }

  /** Forgets jobs the server no longer lists once their result was delivered. */
  forget(keep: Set<number>): void {
    for (const record of [...this.records.values()]) {
      if (record.finished && record.reported && !keep.has(record.id)) {
        this.records.delete(record.id);
        this.state.remove("jobs", String(record.id));
      }
    }
  }

  outputTail(id: number): string {
    const file = this.state.path("jobs", String(id), "output.log");
    if (!existsSync(file)) return "";
    const size = statSync(file).size;
    const length = Math.min(size, OUTPUT_TAIL_BYTES);
    const buffer = Buffer.alloc(length);
    const fd = openSync(file, "r");
    try {
      readSync(fd, buffer, 0, length, size - length);
    } finally {
      closeSync(fd);
    }
    return buffer.toString("utf8");
  }

  private save(record: JobRecord): void {
    this.state.writeJson(record, "jobs", String(record.id), "job.json");
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
