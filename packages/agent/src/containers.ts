import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { Firewall } from "./runtime/firewall.js";
import { sshAnswers } from "./runtime/probe.js";
import { ENV_MOUNT, SSH_KEYS_MOUNT, sshEntryWith } from "./runtime/ssh-entry.js";
import {
  type ContainerInfo,
  type ContainerRuntime,
  type ContainerSpec,
  RuntimeError,
  type StorageFacts,
} from "./runtime/types.js";
import type { StateDir } from "./state.js";
import type { BodyFor, InstanceAssignment, JobAssignment, ReportPath } from "./wire.js";

export interface ContainerHostOptions {
  /** Container names start with it and every container carries it as `gpuplane.agent`: one agent's own containers. */
  namePrefix: string;
  sshPorts: [number, number];
  /** The host address published ports bind to (0.0.0.0 = every interface). */
  publishIp: string;
  dataDir: string;
  cdiKind: string;
  /** Image for an instance whose catalog image has no oci_ref, and for a job that names none. */
  defaultImage: string;
  jobImage: string;
  pidsLimit: number;
  killGraceS: number;
  /** How long a new container may take for sshd to answer before the instance fails. */
  sshReadyTimeoutMs: number;
  /**
   * Tenant isolation: each tenant's containers on a bridge network of their own ("<prefix>-t<tenant>"), walled by
   * the host firewall (runtime/firewall.ts) unless `firewall` is false (an operator who keeps their own rules).
   * False puts every container on the runtime's default network, as before (a host given whole to one tenant).
   */
  isolate?: boolean;
  firewall?: boolean;
  /** The iptables binary (tests pass a stand-in). */
  iptables?: string;
}

export interface Reporter {
  /** True once the server took the report (or refused it for good). */
  report<S extends ReportPath>(path: S, body: BodyFor<"POST", S>): Promise<boolean>;
  address(): string | null;
  log(message: string): void;
}

const OUTPUT_TAIL_BYTES = 4096;
const JOB_ENV_MOUNT = "/run/gpuplane/env.sh";
const L = { agent: "gpuplane.agent", kind: "gpuplane.kind", id: "gpuplane.id", gpus: "gpuplane.gpus" } as const;
const L_PORT = "gpuplane.ssh_port";
const L_CPUSET = "gpuplane.cpuset";
const L_TENANT = "gpuplane.tenant";

/**
 * Instances and jobs as containers. The runtime is the record: what runs, on which GPUs and port, for which instance
 * or job, is read back from the containers' labels on every pass, so an agent restart loses nothing. What only this
 * process knows (a ready report already sent, a job it is stopping) is at worst sent again, and the server takes
 * repeats as no-ops. Passes are serialized: the assignments loop and the 1 s watch never run one concurrently.
 */
export class ContainerHost {
  private readonly runtime: ContainerRuntime;
  private readonly state: StateDir;
  private readonly options: ContainerHostOptions;
  private readonly out: Reporter;
  private assigned: { jobs: JobAssignment[]; instances: InstanceAssignment[] } | undefined;
  private firstPass = true;
  private passing: Promise<void> = Promise.resolve();
  /** Instances reported ready at this port (a port change, after a re-create, is reported again). */
  private readonly ready = new Map<string, number>();
  /** Containers this process created or started, with when: one that exits before sshd answers has failed. */
  private readonly booting = new Map<string, number>();
  private readonly stopping = new Set<number>();
  private readonly runningReported = new Set<number>();
  containers: ContainerInfo[] = [];
  private readonly firewall: Firewall;
  /** Whether the firewall's chains are in place (undefined: not tried yet; false: it failed, said once). */
  private walled: boolean | undefined;
  private readonly walledBridges = new Set<string>();
  /** What the runtime's storage can cap (found on the first pass). */
  storage: StorageFacts | undefined;

  constructor(runtime: ContainerRuntime, state: StateDir, options: ContainerHostOptions, out: Reporter) {
    this.runtime = runtime;
    this.state = state;
    this.options = options;
    this.out = out;
    this.firewall = new Firewall(options.iptables);
  }

  /** New assignments from the server: make the containers match them. */
  apply(assigned: { jobs: JobAssignment[]; instances: InstanceAssignment[] }): Promise<void> {
    this.assigned = assigned;
    return this.pass();
  }

  /** The periodic look: job exits, sshd readiness. */
  watch(): Promise<void> {
    return this.assigned ? this.pass() : Promise.resolve();
  }

  runningJobIds(): number[] {
    return this.containers.filter((c) => c.labels[L.kind] === "job" && c.running).map((c) => Number(c.labels[L.id]));
  }

  private pass(): Promise<void> {
    const next = this.passing.then(() => this.doPass());
    this.passing = next.catch((error: Error) => this.out.log(`containers: ${error.message}`)).then(() => this.soon());
    return next;
  }

  /** While a container boots, look again shortly rather than at the next 1 s watch: `running` is reported sooner. */
  private soonTimer: NodeJS.Timeout | undefined;
  private soon(): void {
    if (!this.booting.size || this.soonTimer || this.closed) return;
    this.soonTimer = setTimeout(() => {
      this.soonTimer = undefined;
      void this.watch().catch(() => undefined);
    }, 100);
  }

  private closed = false;
  /** No more passes (the agent is stopping; the containers keep running). */
  close(): void {
    this.closed = true;
    clearTimeout(this.soonTimer);
  }

  private async doPass(): Promise<void> {
    const assigned = this.assigned!;
    if (this.firstPass) await this.firstLook();
    this.containers = await this.runtime.list(L.agent, this.options.namePrefix);
    const byName = new Map(this.containers.map((c) => [c.name, c]));
    const wantedInstances = new Set(assigned.instances.map((i) => this.nameOf("instance", i.id)));
    const wantedJobs = new Set(assigned.jobs.filter((j) => j.command).map((j) => this.nameOf("job", j.id)));

    for (const c of this.containers) {
      if (wantedInstances.has(c.name) || wantedJobs.has(c.name)) continue;
      await this.retire(c);
    }
    this.firstPass = false;
    for (const instance of assigned.instances)
      await this.instance(instance, byName.get(this.nameOf("instance", instance.id)));
    for (const job of assigned.jobs) if (job.command) await this.job(job, byName.get(this.nameOf("job", job.id)));
    if (this.pruneNeeded) await this.pruneNetworks();
    // A job's "reported" mark is kept while the server still lists it (a long poll answered before the report landed).
    const listed = new Set(assigned.jobs.map((j) => `${j.id}.reported`));
    for (const file of this.state.list("job-results")) if (!listed.has(file)) this.state.remove("job-results", file);
  }

  /** A container the server no longer lists: a deleted instance, a cancelled job, or (first pass) an orphan. */
  private async retire(c: ContainerInfo): Promise<void> {
    const kind = c.labels[L.kind];
    const id = c.labels[L.id];
    if (kind === "job" && this.unreportedEnd(c)) {
      // It ended while nobody was listening; the server may still want its result (it answers 404 if not).
      await this.reportJobEnd(Number(id), c);
    } else if (kind === "job" && c.running) {
      this.out.log(`job ${id} is no longer assigned to this node: stopping its container`);
      this.stopping.add(Number(id));
      await this.runtime.stop(c.name, this.options.killGraceS).catch(() => undefined);
      await this.out.report(`/agent/jobs/${id}/status`, { status: "killed", signal: "SIGTERM" });
    }
    if (this.firstPass) {
      this.out.log(`orphan ${kind} ${id} (container ${c.name}): not known to the server; reporting, then removing it`);
      await this.out.report("/agent/orphans", { containers: [{ name: c.name, kind, id, state: c.state }] });
    } else {
      this.out.log(`${kind} ${id} is gone from this node: removing container ${c.name}`);
    }
    await this.runtime.remove(c.name).catch((e: Error) => this.out.log(`remove ${c.name}: ${e.message}`));
    this.pruneNeeded = true;
    if (kind === "job") this.state.remove("job-env", `${id}.sh`);
    this.ready.delete(id);
    this.booting.delete(c.name);
  }

  private unreportedEnd(c: ContainerInfo): boolean {
    return (
      !c.running && c.state !== "created" && !existsSync(this.state.path("job-results", `${c.labels[L.id]}.reported`))
    );
  }

  private async instance(instance: InstanceAssignment, c: ContainerInfo | undefined): Promise<void> {
    const name = this.nameOf("instance", instance.id);
    if (["stopped", "stopping", "deleting"].includes(instance.status)) {
      this.ready.delete(instance.id);
      this.booting.delete(name);
      let at = isoTime(c?.finishedAt);
      if (c?.running) {
        this.out.log(`instance ${instance.id} ${instance.status}: stopping its container (disk and port are kept)`);
        await this.runtime.stop(name, this.options.killGraceS);
        at = new Date().toISOString();
      }
      // The server bills until this confirmation (repeated while it still lists the instance: it is idempotent).
      if (instance.status === "stopping") await this.out.report(`/agent/instances/${instance.id}/stopped`, { at });
      if (instance.status === "deleting") {
        if (c) await this.runtime.remove(name);
        this.pruneNeeded = true;
        await this.out.report(`/agent/instances/${instance.id}/removed`, { at });
      }
      return;
    }
    if (c && c.labels[L.gpus] !== instance.gpu_uuids.join(",")) {
      // Started again on other GPUs: the devices are fixed at create, so the container is made anew (volumes stay).
      this.out.log(`instance ${instance.id} now holds GPUs ${instance.gpu_uuids.join(",")}: re-creating its container`);
      await this.runtime.remove(name);
      c = undefined;
    }
    if (!c) {
      try {
        await this.createInstance(instance, name);
        this.booting.set(name, Date.now());
      } catch (error) {
        await this.fail(instance, error as Error);
      }
      return;
    }
    const port = Number(c.labels[L_PORT]);
    if (!c.running) {
      if (this.booting.has(name)) {
        const logs = await this.runtime.logsTail(name, 1000).catch(() => "");
        await this.fail(
          instance,
          new RuntimeError(`the container exited (${c.exitCode ?? c.state}): ${c.error || logs.trim()}`),
        );
        return;
      }
      this.out.log(`instance ${instance.id}: starting its container again`);
      try {
        await this.runtime.start(name);
        await this.rewall();
        this.booting.set(name, Date.now());
      } catch (error) {
        await this.fail(instance, error as Error);
      }
      return;
    }
    if (this.ready.get(instance.id) === port) return;
    if (!(await sshAnswers("127.0.0.1", port))) {
      const since = this.booting.get(name);
      if (since !== undefined && Date.now() - since > this.options.sshReadyTimeoutMs) {
        const logs = await this.runtime.logsTail(name, 1000).catch(() => "");
        await this.fail(instance, new RuntimeError(`sshd did not answer on port ${port}: ${logs.trim()}`));
      }
      return;
    }
    const published = instance.ports?.length
      ? await (this.runtime.publishedPorts?.(name) ?? Promise.resolve(new Map<number, number>())).catch(
          () => new Map<number, number>(),
        )
      : null;
    const ok = await this.out.report(`/agent/instances/${instance.id}/ready`, {
      ip_address: this.out.address() ?? "127.0.0.1",
      ssh_user: "root",
      ssh_port: port,
      ...(published
        ? {
            ports: instance.ports
              .filter((p) => published.get(p.port))
              .map((p) => ({ port: p.port, protocol: p.protocol, host_port: published.get(p.port)! })),
          }
        : {}),
    });
    if (ok) {
      this.ready.set(instance.id, port);
      this.booting.delete(name);
      this.out.log(`instance ${instance.id} is up: sshd answers on port ${port}`);
    }
  }

  private async createInstance(instance: InstanceAssignment, name: string): Promise<void> {
    if (instance.gpu_uuids.some((u) => !u)) throw new RuntimeError("a GPU of this instance has no UUID on the node");
    const dir = this.state.path("instances", instance.id);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const keys = `${dir}/authorized_keys`;
    writeFileSync(keys, `${instance.ssh_public_keys.join("\n")}\n`, { mode: 0o644 });
    const mounts: ContainerSpec["mounts"] = [{ source: keys, target: SSH_KEYS_MOUNT, readOnly: true }];
    // The customer's env as a file the entry sources (as jobs'): never in the runtime CLI's argv or `inspect`.
    const env = Object.entries(instance.env ?? {}).filter(([k]) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k));
    if (env.length) {
      const file = `${dir}/env.sh`;
      writeFileSync(file, `${env.map(([k, v]) => `export ${k}='${v.replaceAll("'", "'\\''")}'`).join("\n")}\n`, {
        mode: 0o600,
      });
      mounts.push({ source: file, target: ENV_MOUNT, readOnly: true });
    }
    for (const v of instance.volumes ?? []) {
      const source = `${this.options.dataDir}/volumes/${safe(v.id)}`;
      mkdirSync(source, { recursive: true, mode: 0o700 });
      mounts.push({ source, target: `/data/${safe(v.name)}` });
    }
    const cpus = instance.vcpus ? Math.min(instance.vcpus, availableParallelism()) : undefined;
    const cpuset = cpus ? this.freeCpus(cpus) : undefined;
    const network = await this.tenantNetwork(instance.tenant_id);
    // The type's disk size, only where the storage enforces it (elsewhere the runtime refuses the option).
    const diskGb = (await this.storageFacts()).diskLimit ? (instance.disk_gb ?? undefined) : undefined;
    const spec = (port: number): ContainerSpec => ({
      name,
      image: instance.image || this.options.defaultImage,
      labels: this.labels("instance", instance.id, instance.gpu_uuids, {
        [L_PORT]: String(port),
        [L_TENANT]: String(instance.tenant_id),
        ...(cpuset ? { [L_CPUSET]: cpuset } : {}),
      }),
      network,
      ...sshEntryWith(instance.command),
      gpuUuids: instance.gpu_uuids,
      cdiKind: this.options.cdiKind,
      cpus,
      cpuset,
      memoryMb: instance.ram_gb ? instance.ram_gb * 1024 : undefined,
      diskGb,
      pidsLimit: this.options.pidsLimit,
      // SSH on a port of the agent's range; each declared port on one the runtime picks (reported when ready).
      ports: [
        { hostIp: this.options.publishIp, host: port, container: 22 },
        ...(instance.ports ?? []).map((p) => ({ hostIp: this.options.publishIp, host: 0, container: p.port })),
      ],
      mounts,
    });
    // A port free in our books may still be taken by another program on the host: then the next one is tried.
    const tried = new Set<number>();
    for (;;) {
      const port = this.freePort(tried);
      try {
        await this.runtime.run(spec(port));
        await this.rewall();
        this.containers.push({ name, labels: spec(port).labels, running: true } as ContainerInfo);
        this.out.log(`instance ${instance.id}: container ${name} on GPUs [${instance.gpu_uuids}], SSH port ${port}`);
        return;
      } catch (error) {
        if (!/address already in use/i.test((error as Error).message) || tried.size >= 20) throw error;
        tried.add(port);
      }
    }
  }

  private async job(job: JobAssignment, c: ContainerInfo | undefined): Promise<void> {
    const name = this.nameOf("job", job.id);
    if (!c) {
      if (existsSync(this.state.path("job-results", `${job.id}.reported`))) return; // its end is with the server already
      if (job.status === "running") {
        // Reported running, yet no container: it cannot be resumed, and starting it again could run it twice.
        await this.reportJobEnd(job.id, undefined, "the job's container is gone from the node");
        return;
      }
      try {
        if (job.gpu_uuids.some((u) => !u)) throw new RuntimeError("a GPU of this job has no UUID on the node");
        const envFile = this.writeJobEnv(job);
        const network = await this.tenantNetwork(job.tenant_id);
        await this.runtime.run({
          name,
          image: job.image || this.options.jobImage,
          labels: this.labels("job", String(job.id), job.gpu_uuids, { [L_TENANT]: String(job.tenant_id ?? "none") }),
          network,
          // The env from a file the shell reads, then stderr joined to stdout so the output tail keeps their order.
          entrypoint: "/bin/sh",
          command: ["-c", `. ${JOB_ENV_MOUNT}\nexec 2>&1\n${job.command}`],
          gpuUuids: job.gpu_uuids,
          cdiKind: this.options.cdiKind,
          pidsLimit: this.options.pidsLimit,
          ports: [],
          mounts: [{ source: envFile, target: JOB_ENV_MOUNT, readOnly: true }],
        });
        await this.rewall();
        this.out.log(`job ${job.id}: container ${name} on GPUs [${job.gpu_uuids}]`);
      } catch (error) {
        this.out.log(`job ${job.id} could not start: ${(error as Error).message}`);
        await this.reportJobEnd(job.id, undefined, (error as Error).message);
        return;
      }
      if (await this.out.report(`/agent/jobs/${job.id}/status`, { status: "running" }))
        this.runningReported.add(job.id);
      return;
    }
    if (c.running) {
      if (!this.runningReported.has(job.id) && job.status === "scheduled") {
        if (await this.out.report(`/agent/jobs/${job.id}/status`, { status: "running" }))
          this.runningReported.add(job.id);
      }
      return;
    }
    if (c.state === "created") {
      await this.runtime.remove(name).catch(() => undefined);
      return;
    }
    if (await this.reportJobEnd(job.id, c)) {
      await this.runtime.remove(name).catch(() => undefined);
      this.pruneNeeded = true;
    }
  }

  /** The job's end, from its container (exit code, output tail) or a failure message; marked so it is never re-run. */
  private async reportJobEnd(id: number, c: ContainerInfo | undefined, failure?: string): Promise<boolean> {
    const tail = c ? await this.runtime.logsTail(c.name, OUTPUT_TAIL_BYTES).catch(() => "") : "";
    const killed = this.stopping.has(id);
    const status = failure ? "failed" : killed ? "killed" : c?.exitCode === 0 ? "completed" : "failed";
    const ok = await this.out.report(`/agent/jobs/${id}/status`, {
      status,
      finished_at: c?.finishedAt ? isoTime(c.finishedAt) : undefined,
      exit_code: c?.exitCode ?? null,
      signal: killed ? "SIGTERM" : null,
      output_tail: failure ? `[gpuplane] ${failure}` : tail,
    });
    if (ok) {
      this.state.writeJson({ id, status, at: new Date().toISOString() }, "job-results", `${id}.reported`);
      this.state.remove("job-env", `${id}.sh`);
      this.out.log(`job ${id} ended: ${status}${c?.exitCode !== undefined ? ` (exit ${c.exitCode})` : ""}`);
    }
    return ok;
  }

  /**
   * The job's env as a shell file mounted read-only, not `--env`: a tenant's values never reach the root-run runtime
   * CLI's own environment (think LD_PRELOAD) nor its argv, and do not show in `inspect`. Any value survives quoting.
   */
  private writeJobEnv(job: JobAssignment): string {
    const vars = { ...job.env, GPUPLANE_JOB_ID: String(job.id) };
    const lines = Object.entries(vars)
      .filter(([k]) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k))
      .map(([k, v]) => `export ${k}='${v.replaceAll("'", "'\\''")}'`);
    mkdirSync(this.state.path("job-env"), { recursive: true, mode: 0o700 });
    const file = this.state.path("job-env", `${job.id}.sh`);
    writeFileSync(file, `${lines.join("\n")}\n`, { mode: 0o600 });
    return file;
  }

  /**
   * A launch (or a start) that did not come up: the server fails a provisioning instance (unbilled, GPUs freed) and
   * the container goes. One the server already has running keeps its container (its disk) and is retried next pass.
   */
  private async fail(instance: InstanceAssignment, error: Error): Promise<void> {
    const name = this.nameOf("instance", instance.id);
    this.out.log(`instance ${instance.id} failed: ${error.message}`);
    this.booting.delete(name);
    if (instance.status === "running") return;
    await this.runtime.remove(name).catch(() => undefined);
    await this.out.report(`/agent/instances/${instance.id}/failed`, { reason: error.message.slice(0, 2000) });
  }

  /**
   * First pass: what the storage can cap, and the firewall's chains; the walls of networks made by an earlier agent
   * (a reboot empties the firewall, not the runtime's networks).
   */
  private async firstLook(): Promise<void> {
    await this.storageFacts();
    if (this.options.isolate === false) return;
    for (const n of await this.runtime.networks(L.agent, this.options.namePrefix).catch(() => [])) {
      await this.wall(n.bridge);
    }
    this.pruneNeeded = true;
  }

  /** What the runtime's storage can cap, found once (and logged): the agent reports it to the server. */
  async storageFacts(): Promise<StorageFacts> {
    this.storageLook ??= this.runtime.storage().then(
      (facts) => facts,
      (error: Error): StorageFacts => ({
        driver: "unknown",
        backingFs: "unknown",
        diskLimit: false,
        reason: `the runtime's storage could not be read (${error.message}): the instance type's disk size is not enforced on this node`,
      }),
    );
    const facts = await this.storageLook;
    if (!this.storage) this.out.log(`storage: ${facts.driver} on ${facts.backingFs}: ${facts.reason}`);
    this.storage = facts;
    return facts;
  }
  private storageLook: Promise<StorageFacts> | undefined;

  /** The tenant's own network on this node, made (and walled) on first use; undefined without isolation. */
  private async tenantNetwork(tenantId: number | null | undefined): Promise<string | undefined> {
    if (this.options.isolate === false) return undefined;
    const tenant = tenantId === null || tenantId === undefined ? "none" : String(tenantId);
    const name = `${this.options.namePrefix}-t${tenant}`;
    const net = await this.runtime.network(name, { [L.agent]: this.options.namePrefix, [L_TENANT]: tenant });
    await this.wall(net.bridge);
    return name;
  }

  private async wall(bridge: string): Promise<void> {
    if (this.options.firewall === false || !bridge || this.walledBridges.has(bridge)) return;
    if (this.walled === undefined) {
      this.walled = await this.firewall.setup().then(
        () => true,
        (error: Error) => {
          this.out.log(
            `WARNING: the host firewall could not be set (${error.message}): tenants' networks are separate, ` +
              "but a container may still connect to another tenant's container through the host and to the host's ports",
          );
          return false;
        },
      );
    }
    if (!this.walled) return;
    await this.firewall.wall(bridge).then(
      () => this.walledBridges.add(bridge),
      (error: Error) => this.out.log(`WARNING: firewall rules for ${bridge}: ${error.message}`),
    );
  }

  /** The runtime may put its own ACCEPT rules above ours when a container starts on a new network. */
  private async rewall(): Promise<void> {
    if (this.walled) await this.firewall.jumpsFirst().catch((e: Error) => this.out.log(`firewall: ${e.message}`));
  }

  private pruneNeeded = false;
  /** A tenant's network goes (and its walls) once none of its containers is left on this node. */
  private async pruneNetworks(): Promise<void> {
    this.pruneNeeded = false;
    if (this.options.isolate === false) return;
    const left = await this.runtime.list(L.agent, this.options.namePrefix);
    const used = new Set(left.map((c) => c.labels[L_TENANT]).filter(Boolean));
    for (const n of await this.runtime.networks(L.agent, this.options.namePrefix)) {
      if (used.has(n.labels[L_TENANT])) continue;
      // Walls first, then the network: an agent stopped in between leaves an empty network, not stale rules that a
      // later network given the same bridge name would inherit.
      this.walledBridges.delete(n.bridge);
      if (this.walled) await this.firewall.unwall(n.bridge).catch(() => undefined);
      try {
        await this.runtime.removeNetwork(n.name);
      } catch (error) {
        this.out.log(`network ${n.name} not removed: ${(error as Error).message}`);
        await this.wall(n.bridge);
        continue;
      }
      this.out.log(`network ${n.name} removed: no container of tenant ${n.labels[L_TENANT]} is left on this node`);
    }
  }

  private freePort(skip: Set<number>): number {
    const taken = new Set(this.containers.map((c) => Number(c.labels[L_PORT])).filter(Boolean));
    const [lo, hi] = this.options.sshPorts;
    for (let p = lo; p <= hi; p++) if (!taken.has(p) && !skip.has(p)) return p;
    throw new RuntimeError(`no free SSH port on this node: all of ${lo}-${hi} are held by its containers`);
  }

  /** The first `count` CPUs no other container is pinned to; none when the host has too few left (then --cpus alone). */
  private freeCpus(count: number): string | undefined {
    const taken = new Set(
      this.containers.flatMap((c) => (c.labels[L_CPUSET] ?? "").split(",").filter(Boolean).map(Number)),
    );
    const free = [...Array(availableParallelism()).keys()].filter((i) => !taken.has(i));
    return free.length >= count ? free.slice(0, count).join(",") : undefined;
  }

  private labels(kind: string, id: string, gpus: string[], extra: Record<string, string> = {}) {
    return { [L.agent]: this.options.namePrefix, [L.kind]: kind, [L.id]: id, [L.gpus]: gpus.join(","), ...extra };
  }

  nameOf(kind: "instance" | "job", id: string | number): string {
    return `${this.options.namePrefix}-${kind === "instance" ? "i" : "j"}-${safe(String(id))}`;
  }
}

const safe = (s: string) => s.replace(/[^A-Za-z0-9_.-]/g, "_");

/** The runtime's time (RFC 3339, nanoseconds) as the server reads it; now when there is none. */
function isoTime(t: string | null | undefined): string {
  const ms = t ? Date.parse(t) : Number.NaN;
  return new Date(Number.isNaN(ms) ? Date.now() : ms).toISOString();
}
