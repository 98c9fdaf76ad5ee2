import { spawn } from "node:child_process";
import { readFileSync, statfsSync } from "node:fs";
import {
  type ContainerInfo,
  type ContainerRuntime,
  type ContainerSpec,
  type NetworkInfo,
  RuntimeError,
  type StorageFacts,
} from "./types.js";

/**
 * Podman or Docker driven through its CLI, each in its native way for GPUs: podman takes CDI device names
 * (`--device nvidia.com/gpu=<uuid>`); docker takes `--gpus device=<uuid>,…` (its DeviceRequests). The CLI rather than
 * podman's Docker-compatible API, because that API silently drops DeviceRequests: a container would start with no GPU.
 */
export class CliRuntime implements ContainerRuntime {
  readonly name: "podman" | "docker";
  private readonly binary: string;

  constructor(name: "podman" | "docker", binary: string = name) {
    this.name = name;
    this.binary = binary;
  }

  async check(): Promise<string> {
    const version = await this.exec(["version", "--format", "{{.Client.Version}}"]).catch((error: Error) => {
      throw new RuntimeError(`container runtime ${this.name} is not working: ${error.message}`);
    });
    return version.trim();
  }

  async run(spec: ContainerSpec): Promise<string> {
    try {
      return (await this.exec(runArgs(this.name, spec))).trim();
    } catch (error) {
      // A container that was created but could not start (a missing CDI device, a taken port) is left "created".
      await this.remove(spec.name).catch(() => undefined);
      throw error;
    }
  }

  async start(name: string): Promise<void> {
    await this.exec(["start", name]);
  }

  async stop(name: string, graceS: number): Promise<void> {
    await this.exec(["stop", "-t", String(Math.max(0, Math.round(graceS))), name]);
  }

  /** Kills at once: callers that owe the workload a grace period stop it first. */
  async remove(name: string): Promise<void> {
    // podman's `rm -f` would otherwise wait its 10 s stop timeout on a process that ignores SIGTERM.
    await this.exec(this.name === "podman" ? ["rm", "-f", "-t", "0", name] : ["rm", "-f", name]);
  }

  async list(labelKey: string, labelValue: string): Promise<ContainerInfo[]> {
    const ids = (await this.exec(["ps", "-a", "-q", "--no-trunc", "--filter", `label=${labelKey}=${labelValue}`]))
      .split("\n")
      .map((s) => s.trim())
      .filter(Boolean);
    if (!ids.length) return [];
    // A container removed between ps and inspect makes inspect fail for all: inspect one by one then.
    const text = await this.exec(["inspect", ...ids]).catch(async () => {
      const each = await Promise.all(ids.map((id) => this.exec(["inspect", id]).catch(() => "[]")));
      return JSON.stringify(each.flatMap((t) => JSON.parse(t) as unknown[]));
    });
    return (JSON.parse(text) as InspectJson[]).map(infoOf);
  }

  async logsTail(name: string, maxBytes: number): Promise<string> {
    const out = await this.exec(["logs", name], maxBytes);
    return out;
  }

  async network(name: string, labels: Record<string, string>): Promise<NetworkInfo> {
    const inspect = () => this.exec(["network", "inspect", name]).then((t) => networkOf(this.name, JSON.parse(t)[0]));
    const existing = await inspect().catch(() => undefined);
    if (existing) return existing;
    const args = ["network", "create"];
    for (const [k, v] of Object.entries(labels)) args.push("--label", `${k}=${v}`);
    // Docker names its bridge br-<id> unless told; a name of ours reads better in `iptables -S`.
    if (this.name === "docker") args.push("--opt", `com.docker.network.bridge.name=${bridgeName(name)}`);
    try {
      await this.exec([...args, name]);
    } catch (error) {
      // Made by another pass or agent in the meantime: take it.
      const made = await inspect().catch(() => undefined);
      if (made) return made;
      throw error;
    }
    return inspect();
  }

  async networks(labelKey: string, labelValue: string): Promise<NetworkInfo[]> {
    const names = (await this.exec(["network", "ls", "-q", "--filter", `label=${labelKey}=${labelValue}`]))
      .split("\n")
      .map((s) => s.trim())
      .filter(Boolean);
    if (!names.length) return [];
    const all = JSON.parse(await this.exec(["network", "inspect", ...names])) as unknown[];
    return all.map((n) => networkOf(this.name, n));
  }

  async removeNetwork(name: string): Promise<void> {
    await this.exec(["network", "rm", name]);
  }

  /**
   * Where `--storage-opt size=` is enforced: overlay (podman) and overlay2 (docker) on xfs mounted with project
   * quotas (pquota/prjquota); Docker's btrfs, zfs and devicemapper. Elsewhere (overlay on ext4, vfs, …) the runtime
   * refuses the option, so the agent leaves it off and says the disk size is not enforced.
   */
  async storage(): Promise<StorageFacts> {
    let driver = "unknown";
    let root = "";
    if (this.name === "podman") {
      const info = JSON.parse(await this.exec(["info", "--format", "json"])) as {
        store?: { graphDriverName?: string; graphRoot?: string };
      };
      driver = info.store?.graphDriverName ?? driver;
      root = info.store?.graphRoot ?? "";
    } else {
      const info = JSON.parse(await this.exec(["info", "--format", "{{json .}}"])) as {
        Driver?: string;
        DockerRootDir?: string;
      };
      driver = info.Driver ?? driver;
      root = info.DockerRootDir ?? "";
    }
    const { fs, pquota } = backingFs(root);
    return storageVerdict(this.name, driver, fs, pquota);
  }

  async publishedPorts(name: string): Promise<Map<number, number>> {
    const text = await this.exec(["inspect", "--format", "{{json .NetworkSettings.Ports}}", name]);
    const ports = (JSON.parse(text) ?? {}) as Record<string, { HostPort?: string }[] | null>;
    const out = new Map<number, number>();
    for (const [key, bindings] of Object.entries(ports)) {
      const host = Number(bindings?.[0]?.HostPort);
      if (key.endsWith("/tcp") && host) out.set(Number.parseInt(key, 10), host);
    }
    return out;
  }

  async images(): Promise<string[]> {
    const ids = [...new Set((await this.exec(["images", "-q", "--no-trunc"])).split("\n").map((s) => s.trim()))];
    const known = ids.filter(Boolean);
    if (!known.length) return [];
    // An image removed between the two calls makes inspect fail for all: inspect one by one then.
    const text = await this.exec(["image", "inspect", ...known]).catch(async () => {
      const each = await Promise.all(known.map((id) => this.exec(["image", "inspect", id]).catch(() => "[]")));
      return JSON.stringify(each.flatMap((t) => JSON.parse(t) as unknown[]));
    });
    const refs = (JSON.parse(text) as { RepoTags?: string[] | null; RepoDigests?: string[] | null }[]).flatMap((i) => [
      ...(i.RepoTags ?? []),
      ...(i.RepoDigests ?? []),
    ]);
    return [...new Set(refs)].filter((r) => !r.startsWith("<none>")).sort();
  }

  async hasImage(ref: string): Promise<boolean> {
    return this.exec(["image", "inspect", "--format", "{{.Id}}", ref]).then(
      () => true,
      () => false,
    );
  }

  async pull(ref: string): Promise<void> {
    await this.exec(["pull", "--quiet", ref]);
  }

  /** Runs the CLI; resolves with stdout (its last maxBytes when given), rejects with its stderr as the message. */
  private exec(args: string[], maxBytes?: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.binary, args, {
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = Buffer.alloc(0);
      let err = "";
      const keep = (chunk: Buffer) => {
        out = Buffer.concat([out, chunk]);
        if (maxBytes !== undefined && out.length > maxBytes * 2) out = out.subarray(out.length - maxBytes);
      };
      child.stdout.on("data", keep);
      // `logs` writes the container's stderr on its stderr: keep it with stdout for job output.
      child.stderr.on("data", (chunk: Buffer) => {
        if (maxBytes !== undefined) keep(chunk);
        else err += chunk;
      });
      child.on("error", (error) =>
        reject(
          new RuntimeError(
            (error as NodeJS.ErrnoException).code === "ENOENT"
              ? `${this.binary} is not installed (not found on PATH)`
              : error.message,
          ),
        ),
      );
      child.on("close", (code) => {
        const text = maxBytes === undefined ? out.toString("utf8") : out.subarray(-maxBytes).toString("utf8");
        if (code === 0) resolve(text);
        else reject(new RuntimeError(cleanError(err) || `${this.binary} ${args[0]} exited with ${code}`));
      });
    });
  }
}

/** The `run` argv for a spec: pure, so Docker's (which cannot run here) is unit-tested. */
export function runArgs(runtime: "podman" | "docker", spec: ContainerSpec): string[] {
  const args = ["run", "--detach", "--name", spec.name, "--init"];
  for (const [k, v] of Object.entries(spec.labels)) args.push("--label", `${k}=${v}`);
  if (spec.gpuUuids.length) {
    if (runtime === "podman") for (const uuid of spec.gpuUuids) args.push("--device", `${spec.cdiKind}=${uuid}`);
    // Quoted: a comma inside --gpus separates options unless the device list is quoted.
    else args.push("--gpus", `"device=${spec.gpuUuids.join(",")}"`);
  }
  if (spec.cpus) args.push("--cpus", String(spec.cpus));
  if (spec.cpuset) args.push("--cpuset-cpus", spec.cpuset);
  if (spec.memoryMb) args.push("--memory", `${spec.memoryMb}m`);
  if (spec.pidsLimit) args.push("--pids-limit", String(spec.pidsLimit));
  if (spec.network) args.push("--network", spec.network);
  if (spec.diskGb) args.push("--storage-opt", `size=${spec.diskGb}G`);
  for (const p of spec.ports) args.push("--publish", `${p.hostIp}:${p.host || ""}:${p.container}`);
  for (const m of spec.mounts) args.push("--volume", `${m.source}:${m.target}${m.readOnly ? ":ro" : ""}`);
  if (spec.entrypoint !== undefined) args.push("--entrypoint", spec.entrypoint);
  args.push(spec.image, ...spec.command);
  return args;
}

/** A bridge name of at most 15 characters (the kernel's limit) for a network of ours: "gpt-" and a hash. */
export function bridgeName(network: string): string {
  let h = 2166136261;
  for (const c of network) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  return `gpt-${h.toString(16).padStart(8, "0")}`;
}

function networkOf(runtime: "podman" | "docker", n: unknown): NetworkInfo {
  if (runtime === "podman") {
    const p = n as {
      name: string;
      network_interface?: string;
      subnets?: { subnet: string }[];
      labels?: Record<string, string>;
    };
    return {
      name: p.name,
      bridge: p.network_interface ?? "",
      subnets: (p.subnets ?? []).map((s) => s.subnet),
      labels: p.labels ?? {},
    };
  }
  const d = n as {
    Name: string;
    Id: string;
    IPAM?: { Config?: { Subnet?: string }[] | null };
    Options?: Record<string, string> | null;
    Labels?: Record<string, string> | null;
  };
  return {
    name: d.Name,
    bridge: d.Options?.["com.docker.network.bridge.name"] ?? `br-${d.Id.slice(0, 12)}`,
    subnets: (d.IPAM?.Config ?? []).map((c) => c.Subnet ?? "").filter(Boolean),
    labels: d.Labels ?? {},
  };
}

const FS_MAGIC: Record<number, string> = {
  1481003842: "xfs",
  61267: "ext4",
  2435016766: "btrfs",
  801189825: "zfs",
  16914836: "tmpfs",
  2035054128: "overlay",
};

/** The filesystem under path, and whether its mount has project quotas (from /proc/mounts, longest prefix). */
function backingFs(path: string): { fs: string; pquota: boolean } {
  if (!path) return { fs: "unknown", pquota: false };
  let fs = "unknown";
  try {
    const type = Number(statfsSync(path).type);
    fs = FS_MAGIC[type] ?? `0x${type.toString(16)}`;
  } catch {
    // not readable: unknown
  }
  let best = "";
  let options = "";
  try {
    for (const line of readFileSync("/proc/mounts", "utf8").split("\n")) {
      const [, mount, , opts] = line.split(" ");
      if (
        mount &&
        (path === mount || path.startsWith(mount.endsWith("/") ? mount : `${mount}/`)) &&
        mount.length >= best.length
      ) {
        best = mount;
        options = opts ?? "";
      }
    }
  } catch {
    // no /proc: no quotas known
  }
  return { fs, pquota: /(^|,)(pquota|prjquota)(,|$)/.test(options) };
}

/** Pure, so every driver's answer is unit-tested. */
export function storageVerdict(
  runtime: "podman" | "docker",
  driver: string,
  fs: string,
  pquota: boolean,
): StorageFacts {
  const facts = { driver, backingFs: fs };
  if ((driver === "overlay" || driver === "overlay2") && fs === "xfs" && pquota)
    return { ...facts, diskLimit: true, reason: `${driver} on xfs with project quotas enforces --storage-opt size` };
  if (runtime === "docker" && ["btrfs", "zfs", "devicemapper"].includes(driver))
    return { ...facts, diskLimit: true, reason: `docker's ${driver} driver enforces --storage-opt size` };
  const needs =
    driver === "overlay" || driver === "overlay2"
      ? `${driver} enforces a size only on xfs mounted with pquota (here: ${fs}${fs === "xfs" ? " without pquota" : ""})`
      : `the ${driver} storage driver cannot limit a container's size`;
  return { ...facts, diskLimit: false, reason: `${needs}: the instance type's disk size is not enforced on this node` };
}

interface InspectJson {
  Id: string;
  Name: string;
  Config?: { Labels?: Record<string, string> | null };
  State?: {
    Status?: string;
    Running?: boolean;
    ExitCode?: number;
    Error?: string;
    StartedAt?: string;
    FinishedAt?: string;
  };
}

function infoOf(c: InspectJson): ContainerInfo {
  const s = c.State ?? {};
  const time = (t?: string) => (t && !t.startsWith("0001-") ? t : null);
  return {
    id: c.Id,
    name: c.Name.replace(/^\//, ""),
    labels: c.Config?.Labels ?? {},
    running: Boolean(s.Running),
    state: s.Status ?? "unknown",
    exitCode: s.Running || s.ExitCode === undefined ? null : s.ExitCode,
    error: s.Error ?? "",
    startedAt: time(s.StartedAt),
    finishedAt: time(s.FinishedAt),
  };
}

/** "Error: …" lines as the customer should read them, without the CLI's prefix. */
function cleanError(stderr: string): string {
  return stderr
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !/^time=".*level=warning/.test(l))
    .map((l) => l.replace(/^Error: /, ""))
    .join("; ")
    .slice(0, 2000);
}
