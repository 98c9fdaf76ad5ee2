import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "../..");
export const fakeNvidiaSmiDir = join(root, "packages/agent/test/fake-nvidia-smi");
const bin = join(root, "packages/agent/bin/gpuplane-agent.mjs");

/** A GPU host for a test: a state dir, a fake nvidia-smi state file, and the real agent run as a child process. */
export class TestHost {
  readonly dir = mkdtempSync(join(tmpdir(), "gpuplane-agent-"));
  readonly stateDir = join(this.dir, "state");
  readonly smiState = join(this.dir, "nvidia-smi.json");
  readonly hostname: string;
  child: ChildProcess | undefined;
  output = "";
  exited: Promise<number | null> = Promise.resolve(null);

  constructor(hostname: string) {
    this.hostname = hostname;
    this.setGpus({});
  }

  /** Per-GPU fake state (see the fake nvidia-smi's header): ECC errors, throttling, load, a lost GPU. */
  setGpus(gpus: Record<string, Record<string, unknown>>): void {
    writeFileSync(this.smiState, JSON.stringify({ gpus }));
  }

  start(args: string[] = [], env: Record<string, string> = {}): void {
    const child = spawn(
      process.execPath,
      [
        bin,
        "--state-dir",
        this.stateDir,
        "--hostname",
        this.hostname,
        "--ip",
        "10.0.0.7",
        "--interval",
        "0.3",
        "--wait",
        "2",
        "--kill-grace",
        "1",
        // Bare processes unless the test asks for a runtime (container tests pass --runtime podman and more).
        ...(args.includes("--runtime") ? [] : ["--runtime", "none"]),
        ...args,
      ],
      {
        cwd: root,
        env: {
          ...process.env,
          PATH: `${fakeNvidiaSmiDir}:${process.env.PATH}`,
          FAKE_NVIDIA_SMI_STATE: this.smiState,
          ...env,
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    child.stdout!.on("data", (d) => {
      this.output += d;
    });
    child.stderr!.on("data", (d) => {
      this.output += d;
    });
    this.child = child;
    this.exited = new Promise((done) => child.on("exit", (code) => done(code)));
  }

  async stop(signal: NodeJS.Signals = "SIGKILL"): Promise<number | null> {
    if (!this.child || this.child.exitCode !== null) return this.child?.exitCode ?? null;
    this.child.kill(signal);
    return this.exited;
  }

  jobPid(jobId: number): number | undefined {
    const file = join(this.stateDir, "jobs", String(jobId), "job.json");
    return existsSync(file) ? JSON.parse(readFileSync(file, "utf8")).pid : undefined;
  }

  /** Kills whatever jobs this host still runs (test clean-up). */
  killJobs(): void {
    const dir = join(this.stateDir, "jobs");
    if (!existsSync(dir)) return;
    for (const id of readdirSync(dir)) {
      const pid = this.jobPid(Number(id));
      if (!pid) continue;
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        // gone
      }
    }
  }
}

export async function until<T>(what: string, probe: () => Promise<T | undefined | false | null>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
