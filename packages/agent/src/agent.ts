import { readFileSync } from "node:fs";
import { ApiClient, Refused, Unreachable } from "./client.js";
import { ContainerHost, type ContainerHostOptions } from "./containers.js";
import { judgeGpu, parseXids } from "./health.js";
import { discoverHost, type HostFacts } from "./host.js";
import { ImageKeeper, type PullPolicy } from "./images.js";
import { InstanceHost } from "./instances.js";
import { JobRunner } from "./jobs.js";
import { type GpuSample, NvidiaSmi } from "./nvidia-smi.js";
import { MetricsOutbox } from "./outbox.js";
import { cdiAdvice, gpusMissingFromCdi } from "./runtime/cdi.js";
import { CliRuntime } from "./runtime/cli-runtime.js";
import { type Credentials, StateDir } from "./state.js";
import { replaceAgentFile, type UpgradeTarget } from "./upgrade.js";
import { AGENT_VERSION, agentFile, agentSha256 } from "./version.js";
import type { Assignments, BodyFor, HeartbeatGpu, JoinRequest, MetricSample, ReportPath } from "./wire.js";

export { AGENT_VERSION };

export interface AgentOptions {
  server?: string;
  token?: string;
  stateDir: string;
  hostname?: string;
  ipAddress?: string;
  /** Seconds between samples: metrics and heartbeat (default 10). */
  intervalS: number;
  /** Longest a long-poll for assignments waits (default 30). */
  waitS: number;
  nvidiaSmi: string;
  maxTemperatureC: number;
  /** A file of kernel log lines to read Xids from (e.g. /var/log/kern.log); none by default. */
  xidLog?: string;
  killGraceMs: number;
  drainTimeoutMs: number;
  manageUsers: boolean;
  maxBatches: number;
  log: (message: string) => void;
  /** How work runs: as containers (podman, the default, or docker), or as bare processes on a single-tenant host. */
  runtime: "podman" | "docker" | "none";
  /** The runtime's CLI binary (default: its name on PATH). */
  runtimeBinary?: string;
  /** Container mode: pull the server's wanted images the host lacks (missing), or only report them (never). */
  pull?: PullPolicy;
  containers: Omit<ContainerHostOptions, "killGraceS">;
}

/** What the agent found and would send: printed by `--once --dry-run`. */
export async function discover(options: AgentOptions) {
  const host = discoverHost({ hostname: options.hostname, ipAddress: options.ipAddress });
  let samples: GpuSample[] = [];
  let gpuError: string | null = null;
  try {
    samples = await new NvidiaSmi(options.nvidiaSmi).sample();
  } catch (error) {
    gpuError = (error as Error).message;
  }
  return { host, samples, gpuError, health: healthOf(samples, options) };
}

function healthOf(samples: GpuSample[], options: AgentOptions): HeartbeatGpu[] {
  let xids = new Map<string, number[]>();
  if (options.xidLog) {
    try {
      xids = parseXids(readFileSync(options.xidLog, "utf8"));
    } catch {
      // no readable kernel log: no Xid signal
    }
  }
  return samples.map((s) => {
    const verdict = judgeGpu(s, (s.busId && xids.get(s.busId.toUpperCase())) || [], options);
    return { index: s.index, uuid: s.uuid, health: verdict.health, reason: verdict.reason };
  });
}

export function joinBody(
  token: string,
  host: HostFacts,
  samples: GpuSample[],
  runtime: Pick<JoinRequest, "images" | "storage"> = {},
): JoinRequest {
  return {
    token,
    hostname: host.hostname,
    ip_address: host.ipAddress,
    cpu_cores: host.cpuCores,
    ram_gb: host.ramGb,
    agent_version: AGENT_VERSION,
    agent_sha256: agentSha256(),
    gpus: samples.map((s) => ({
      index: s.index,
      uuid: s.uuid,
      model: s.name,
      vram_mb: s.memoryTotalMb === null ? null : Math.round(s.memoryTotalMb),
      driver_version: s.driverVersion,
    })),
    facts: {
      platform: process.platform,
      arch: process.arch,
      node: process.version,
      gpu_bus_ids: Object.fromEntries(samples.map((s) => [s.uuid, s.busId])),
    },
    ...runtime,
  };
}

export function metricsOf(samples: GpuSample[], gpuIds: Record<string, number>, at: Date): MetricSample[] {
  return samples
    .filter((s) => gpuIds[s.uuid] !== undefined)
    .map((s) => ({
      gpu_id: gpuIds[s.uuid],
      utilization_pct: s.utilizationPct,
      memory_used_mb: s.memoryUsedMb === null ? null : Math.round(s.memoryUsedMb),
      memory_total_mb: s.memoryTotalMb === null ? null : Math.round(s.memoryTotalMb),
      temperature_c: s.temperatureC,
      power_draw_w: s.powerDrawW,
      ts: at.toISOString(),
    }));
}

/**
 * The node agent: joins once, then every interval samples the GPUs, pushes metrics and a heartbeat with per-GPU
 * health, and, through a long poll, starts and stops the work the server assigns to this node.
 */
export class Agent {
  readonly options: AgentOptions;
  readonly state: StateDir;
  readonly smi: NvidiaSmi;
  readonly jobs: JobRunner;
  readonly instances: InstanceHost;
  readonly outbox: MetricsOutbox;
  /** Container mode; undefined with --runtime none. */
  readonly containers: ContainerHost | undefined;
  /** Container mode: the host's images, pulled and reported. */
  readonly images: ImageKeeper | undefined;
  private readonly runtime: CliRuntime | undefined;
  client!: ApiClient;
  credentials!: Credentials;
  private draining = false;
  private stopped = false;
  private poll = new AbortController();
  private timers: NodeJS.Timeout[] = [];
  private assignmentsLoop: Promise<void> | undefined;
  private ticking: Promise<void> | undefined;
  private lastSamples: GpuSample[] = [];
  private upgrading = false;
  private upgradeRefused: string | undefined;
  private restart!: () => void;
  /** Resolves once the agent replaced its own file and stopped: the CLI exits for its supervisor to start the new one. */
  readonly restartRequested = new Promise<void>((resolve) => {
    this.restart = resolve;
  });

  constructor(options: AgentOptions) {
    this.options = options;
    this.state = new StateDir(options.stateDir);
    this.smi = new NvidiaSmi(options.nvidiaSmi);
    this.jobs = new JobRunner(this.state, options.killGraceMs);
    this.instances = new InstanceHost(this.state, options.manageUsers);
    this.outbox = new MetricsOutbox(this.state, { maxBatches: options.maxBatches, log: options.log });
    if (options.runtime !== "none") {
      this.runtime = new CliRuntime(options.runtime, options.runtimeBinary);
      this.containers = new ContainerHost(
        this.runtime,
        this.state,
        { ...options.containers, killGraceS: options.killGraceMs / 1000 },
        {
          report: (path, body) => this.report(path, body),
          address: () => discoverHost({ hostname: options.hostname, ipAddress: options.ipAddress }).ipAddress,
          log: options.log,
        },
      );
      this.images = new ImageKeeper(this.runtime, options.pull ?? "missing", options.log);
    }
  }

  /**
   * What the server keeps per node about its runtime: the images it has (and the failed pulls), and whether its
   * storage enforces a container's disk size. Nothing without a runtime; a part that fails is left out (kept as the
   * server last had it).
   */
  private async runtimeReport(): Promise<Pick<JoinRequest, "images" | "storage">> {
    if (!this.images || !this.containers) return {};
    const [images, storage] = await Promise.all([
      this.images.report().catch((error: Error) => {
        this.options.log(`images: ${error.message}`);
        return undefined;
      }),
      this.containers.storageFacts(),
    ]);
    return {
      ...(images && { images }),
      storage: {
        driver: storage.driver,
        backing_fs: storage.backingFs,
        disk_limit: storage.diskLimit,
        reason: storage.reason,
      },
    };
  }

  /**
   * Container mode: says at start-up what will make launches fail, so an operator sees it before a customer does —
   * a runtime that does not answer, GPUs no CDI spec names. The agent keeps serving either way: a launch then fails
   * with the runtime's own message, and the instance or job ends failed, unbilled, its GPUs freed.
   */
  private async checkRuntime(): Promise<void> {
    if (!this.runtime) {
      this.options.log("--runtime none: work runs as bare processes; this host takes work from one tenant only");
      return;
    }
    try {
      this.options.log(`container runtime: ${this.runtime.name} ${await this.runtime.check()}`);
    } catch (error) {
      this.options.log(`WARNING: ${(error as Error).message}; every launch on this node will fail until it works`);
    }
    if (this.runtime.name !== "podman") return;
    const uuids = (await this.smi.sample().catch(() => [])).map((s) => s.uuid);
    const missing = gpusMissingFromCdi(uuids, this.options.containers.cdiKind);
    if (missing.length) this.options.log(`WARNING: ${cdiAdvice(missing, this.options.containers.cdiKind)}`);
  }

  /** Uses the stored node credential, or joins with the token and stores the one the server issues. */
  async connect(): Promise<void> {
    const stored = this.state.credentials();
    if (stored && (!this.options.server || stored.server === this.options.server.replace(/\/+$/, ""))) {
      this.credentials = stored;
      this.client = new ApiClient(stored.server, stored.key);
      this.options.log(`using the stored credential of node ${stored.nodeId} (${stored.server})`);
      return;
    }
    if (!this.options.server || !this.options.token) {
      throw new Error(
        "not joined yet: run with --server URL --token TOKEN (create one: POST /api/v1/clusters/{id}/join-tokens)",
      );
    }
    const samples = await this.smi.sample();
    const host = discoverHost({ hostname: this.options.hostname, ipAddress: this.options.ipAddress });
    const client = new ApiClient(this.options.server);
    const joined = await client.request("POST", "/agent/join", {
      body: joinBody(this.options.token, host, samples, await this.runtimeReport()),
    });
    this.images?.want(joined.images);
    this.credentials = {
      server: client.server,
      nodeId: joined.node_id,
      clusterId: joined.cluster_id,
      key: joined.credential,
      gpuIds: Object.fromEntries(joined.gpus.filter((g) => g.uuid).map((g) => [g.uuid!, g.id])),
    };
    this.state.saveCredentials(this.credentials);
    this.client = new ApiClient(client.server, joined.credential);
    this.options.log(`joined as node ${joined.node_id} of cluster ${joined.cluster_id} with ${samples.length} GPU(s)`);
  }

  /** Runs until stop() (or a signal, wired by the CLI); `once` does one cycle and returns. */
  async start(once = false): Promise<void> {
    await this.connect();
    await this.checkRuntime();
    await this.tick();
    if (once) {
      await this.syncAssignments(0);
      await this.watchJobs();
      return;
    }
    this.timers.push(setInterval(() => void this.tick(), this.options.intervalS * 1000));
    this.timers.push(setInterval(() => void this.watchJobs(), this.containers ? 1000 : 250));
    this.assignmentsLoop = this.runAssignmentsLoop();
  }

  /** One sample: metrics queued and flushed, heartbeat with health sent. Never throws; overlapping calls coalesce. */
  tick(): Promise<void> {
    this.ticking ??= this.doTick().finally(() => {
      this.ticking = undefined;
    });
    return this.ticking;
  }

  private async doTick(): Promise<void> {
    let gpuError: string | null = null;
    try {
      this.lastSamples = await this.smi.sample();
    } catch (error) {
      gpuError = (error as Error).message;
      this.lastSamples = [];
    }
    this.outbox.add(metricsOf(this.lastSamples, this.credentials.gpuIds, new Date()));
    try {
      const beat = await this.client.request("POST", "/agent/heartbeat", {
        body: {
          agent_version: AGENT_VERSION,
          agent_sha256: agentSha256(),
          gpus: healthOf(this.lastSamples, this.options),
          gpu_error: gpuError,
          running_jobs: this.containers ? this.containers.runningJobIds() : this.jobs.running().map((j) => j.id),
          ...(await this.runtimeReport()),
        },
        timeoutMs: 15_000,
      });
      const gpuIds = Object.fromEntries(beat.gpus.filter((g) => g.uuid).map((g) => [g.uuid!, g.id]));
      if (JSON.stringify(gpuIds) !== JSON.stringify(this.credentials.gpuIds)) {
        this.credentials.gpuIds = gpuIds;
        this.state.saveCredentials(this.credentials);
      }
      this.images?.want(beat.images);
      await this.outbox.flush(this.client);
      if (beat.upgrade) void this.upgrade(beat.upgrade);
    } catch (error) {
      this.options.log(`server not reachable (${this.outbox.size} metric batch(es) kept): ${(error as Error).message}`);
    }
  }

  /**
   * The operator asked for an upgrade (`POST /api/v1/nodes/{id}/upgrade`; the heartbeat's answer names the server's
   * build). Between work: the new file is downloaded and verified while the agent carries on, then the assignment
   * loop finishes what it is doing and stops, without draining — containers and bare jobs keep running and the new
   * agent adopts them, as after any restart.
   */
  private async upgrade(target: UpgradeTarget): Promise<void> {
    if (this.upgrading || this.stopped) return;
    const file = agentFile();
    if (!file) {
      const why = "this agent runs from its sources, not the single file: upgrade it by hand (docs/agent.md)";
      if (this.upgradeRefused !== why) this.options.log(`upgrade to ${target.version} asked: ${why}`);
      this.upgradeRefused = why;
      return;
    }
    this.upgrading = true;
    try {
      if (!this.upgradeRefused) {
        this.options.log(`upgrading ${AGENT_VERSION} → ${target.version} (sha256 ${target.sha256.slice(0, 12)}…)`);
      }
      await replaceAgentFile(file, target);
    } catch (error) {
      const why = (error as Error).message;
      if (this.upgradeRefused !== why) this.options.log(`upgrade to ${target.version} failed: ${why}`);
      this.upgradeRefused = why;
      this.upgrading = false;
      return;
    }
    await this.stop();
    this.options.log(`${file} is now ${target.version}: restarting into it; running work is kept`);
    this.restart();
  }

  private async runAssignmentsLoop(): Promise<void> {
    let failures = 0;
    while (!this.draining) {
      try {
        await this.syncAssignments(this.options.waitS);
        failures = 0;
      } catch (error) {
        if (this.draining) break;
        failures++;
        this.options.log(`assignments: ${(error as Error).message}`);
        await sleep(Math.min(10_000, 500 * 2 ** Math.min(failures, 5)));
      }
    }
  }

  private version: string | undefined;

  /** Fetches the assignments (long-polling up to waitS for a change) and makes this node match them. */
  async syncAssignments(waitS: number): Promise<void> {
    const query: Record<string, string> = { wait: String(waitS) };
    if (this.version && waitS > 0) query.version = this.version;
    const assigned = await this.client.request("GET", "/agent/assignments", {
      query,
      timeoutMs: (waitS + 15) * 1000,
      signal: this.poll.signal,
    });
    if (this.draining) return;
    this.version = assigned.version;
    await this.reconcile(assigned);
  }

  /** Starts what is assigned and not running; stops what runs and is no longer assigned (cancelled, preempted, …). */
  async reconcile(assigned: Assignments): Promise<void> {
    if (this.containers) return this.containers.apply(assigned);
    assigned = await this.oneTenant(assigned);
    const wanted = new Map(assigned.jobs.filter((j) => j.command).map((j) => [j.id, j]));
    for (const record of this.jobs.running()) {
      if (!wanted.has(record.id)) {
        this.options.log(`job ${record.id} is no longer assigned to this node: stopping it`);
        await this.jobs.kill(record.id);
      }
    }
    for (const job of wanted.values()) {
      if (this.jobs.known(job.id) || this.draining) continue;
      const record = this.jobs.start(job);
      this.options.log(`job ${job.id} started (pid ${record.pid}, CUDA_VISIBLE_DEVICES=${job.gpu_indices.join(",")})`);
      await this.report(`/agent/jobs/${job.id}/status`, { status: "running", pid: record.pid });
    }
    this.jobs.forget(new Set(wanted.keys()));

    // A stopped instance keeps its container in container mode; bare, it simply loses access.
    const ending = ["stopped", "stopping", "deleting"];
    const instances = new Map(assigned.instances.filter((i) => !ending.includes(i.status)).map((i) => [i.id, i]));
    const installed = new Map(this.instances.installed().map((r) => [r.id, r]));
    for (const [id, record] of installed) {
      if (!instances.has(id)) {
        this.instances.remove(record);
        this.options.log(`instance ${id} is no longer on this node: access removed`);
      }
    }
    for (const i of assigned.instances.filter((i) => i.status === "stopping" || i.status === "deleting")) {
      const what = i.status === "stopping" ? "stopped" : "removed"; // its access is gone: the server stops billing
      await this.report(`/agent/instances/${i.id}/${what}`, { at: new Date().toISOString() });
    }
    for (const instance of instances.values()) {
      let record = installed.get(instance.id);
      if (!record) {
        if (this.draining) continue;
        record = this.instances.install(instance);
        this.options.log(
          `instance ${instance.id}: ${instance.ssh_public_keys.length} SSH key(s) for ${record.sshUser}`,
        );
      }
      if (!record.reportedReady) {
        const host = discoverHost({ hostname: this.options.hostname, ipAddress: this.options.ipAddress });
        // The server requires an address: without a non-internal interface the host is reachable on loopback only
        // (as in container mode), where sending null was refused for good and left the instance provisioning.
        const ok = await this.report(`/agent/instances/${instance.id}/ready`, {
          ip_address: host.ipAddress ?? "127.0.0.1",
          ssh_user: record.sshUser,
          ssh_port: 22,
        });
        if (ok) this.instances.markReady(record);
      }
    }
  }

  /** Collects ended jobs and reports their results (retried until the server acknowledges). */
  async watchJobs(): Promise<void> {
    if (this.containers) {
      if (!this.draining) await this.containers.watch().catch(() => undefined);
      return;
    }
    for (const record of this.jobs.poll()) {
      const f = record.finished!;
      this.options.log(`job ${record.id} ended (exit ${f.exitCode ?? f.signal})`);
    }
    for (const record of this.jobs.unreported()) {
      const result = this.jobs.result(record);
      const ok = await this.report(`/agent/jobs/${record.id}/status`, {
        status: result.status,
        exit_code: result.exitCode,
        signal: result.signal,
        output_tail: result.outputTail,
      });
      if (ok) this.jobs.markReported(record.id);
    }
  }

  /**
   * Bare processes share the host's users, processes and GPUs: such a host is given whole to one tenant. Work of a
   * second tenant is refused (reported failed) while the first one's is there.
   */
  private async oneTenant(assigned: Assignments): Promise<Assignments> {
    // The host belongs to the tenant whose work already runs here; a newcomer of another tenant is the one refused.
    const work = [...assigned.instances, ...assigned.jobs].filter((w) => (w.tenant_id ?? null) !== null);
    const owner = (work.find((w) => w.status === "running") ?? work[0])?.tenant_id ?? null;
    const refuse = (w: { tenant_id?: number | null }) =>
      owner !== null && (w.tenant_id ?? null) !== null && w.tenant_id !== owner;
    const reason = "this node runs without a container runtime (--runtime none) and hosts one tenant at a time";
    for (const i of assigned.instances.filter(refuse)) {
      await this.report(`/agent/instances/${i.id}/failed`, { reason });
    }
    for (const j of assigned.jobs.filter(refuse)) {
      await this.report(`/agent/jobs/${j.id}/status`, { status: "failed", output_tail: `[gpuplane] ${reason}` });
    }
    return {
      ...assigned,
      instances: assigned.instances.filter((w) => !refuse(w)),
      jobs: assigned.jobs.filter((w) => !refuse(w)),
    };
  }

  /** True once the server took the report (or refused it for good: the job or instance is gone). */
  private async report<S extends ReportPath>(path: S, body: BodyFor<"POST", S>): Promise<boolean> {
    try {
      await this.client.request("POST", path, { body, timeoutMs: 15_000 });
      return true;
    } catch (error) {
      if (error instanceof Refused && error.status !== 401) {
        this.options.log(`report ${path} refused: ${error.message}`);
        return true;
      }
      if (!(error instanceof Unreachable)) this.options.log(`report ${path}: ${(error as Error).message}`);
      return false;
    }
  }

  /**
   * Graceful stop (SIGTERM): take no new work, let running jobs finish within drainTimeoutMs, stop and hand back the
   * rest (reported as killed, so the scheduler can place them again), then send the last metrics and heartbeat.
   */
  async drain(): Promise<void> {
    if (this.draining) return;
    if (this.containers) {
      // Containers outlive the agent: a restarted agent finds them by their labels and carries on.
      this.options.log("stopping; containers keep running and are adopted by the next agent");
      this.containers.close();
      await this.stop();
      return;
    }
    this.draining = true;
    this.poll.abort();
    this.options.log(`draining: ${this.jobs.running().length} job(s) running`);
    const deadline = Date.now() + this.options.drainTimeoutMs;
    while (this.jobs.running().length && Date.now() < deadline) {
      this.jobs.poll();
      await sleep(200);
    }
    for (const record of this.jobs.running()) {
      this.options.log(`job ${record.id} did not finish within the drain timeout: stopping it`);
      await this.jobs.kill(record.id);
    }
    await this.watchJobs();
    await this.stop();
    await this.tick();
    this.options.log("drained");
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.draining = true;
    this.poll.abort();
    for (const timer of this.timers) clearInterval(timer);
    this.containers?.close();
    await this.assignmentsLoop?.catch(() => undefined);
    await this.ticking;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
