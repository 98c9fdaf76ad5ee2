/**
 * The container runtime behind the agent: one small interface, implemented by driving the podman or docker CLI
 * (cli-runtime.ts). Every container the agent starts carries labels naming what it is (instance or job, and its id),
 * so after a restart the agent rebuilds what runs from the runtime itself, not from files of its own.
 */
export interface ContainerSpec {
  name: string;
  image: string;
  labels: Record<string, string>;
  /** Replaces the image's ENTRYPOINT (images like vLLM's set one that would swallow our command). */
  entrypoint?: string;
  /** argv after the image; empty = the image's own command. */
  command: string[];
  /** GPUs by UUID; podman gets them as CDI devices (`--device <cdiKind>=<uuid>`), docker as `--gpus device=…`. */
  gpuUuids: string[];
  cdiKind: string;
  cpus?: number;
  cpuset?: string;
  memoryMb?: number;
  pidsLimit?: number;
  /** `host` 0: a port the runtime picks. */
  ports: { hostIp: string; host: number; container: number }[];
  mounts: { source: string; target: string; readOnly?: boolean }[];
  /** The tenant's own network (see ContainerRuntime.network); the runtime's default network when absent. */
  network?: string;
  /** Writable layer size limit (`--storage-opt size=`), only where the runtime's storage enforces it. */
  diskGb?: number;
}

/** A bridge network of the runtime's, with what the host firewall needs to wall it. */
export interface NetworkInfo {
  name: string;
  /** The host's bridge interface (podman1, br-…, or the name we gave it). */
  bridge: string;
  subnets: string[];
  labels: Record<string, string>;
}

/** Whether the runtime's storage can cap a container's disk, and why (not). */
export interface StorageFacts {
  driver: string;
  /** The filesystem under the runtime's storage (xfs, ext4, …). */
  backingFs: string;
  diskLimit: boolean;
  reason: string;
}

export interface ContainerInfo {
  id: string;
  name: string;
  labels: Record<string, string>;
  running: boolean;
  /** The runtime's word: created, running, exited, … */
  state: string;
  exitCode: number | null;
  /** The runtime's own error for a container that could not start (e.g. a missing CDI device). */
  error: string;
  startedAt: string | null;
  finishedAt: string | null;
}

/** The runtime refused or failed: `message` is its own words, meant to reach the customer as the failure reason. */
export class RuntimeError extends Error {
  override name = "RuntimeError";
}

export interface ContainerRuntime {
  readonly name: "podman" | "docker";
  /** Throws a RuntimeError saying what is wrong when the runtime is not installed or not working. */
  check(): Promise<string>;
  /** Creates and starts the container detached; on failure nothing is left behind. */
  run(spec: ContainerSpec): Promise<string>;
  start(name: string): Promise<void>;
  /** SIGTERM, then SIGKILL after graceS seconds. */
  stop(name: string, graceS: number): Promise<void>;
  remove(name: string): Promise<void>;
  /** Every container (running or not) carrying the label key=value. */
  list(labelKey: string, labelValue: string): Promise<ContainerInfo[]>;
  /** The last `maxBytes` of the container's output. */
  logsTail(name: string, maxBytes: number): Promise<string>;
  /** Creates the bridge network when missing (labels set at creation); answers what it is either way. */
  network(name: string, labels: Record<string, string>): Promise<NetworkInfo>;
  /** Networks carrying the label key=value. */
  networks(labelKey: string, labelValue: string): Promise<NetworkInfo[]>;
  removeNetwork(name: string): Promise<void>;
  storage(): Promise<StorageFacts>;
  /** The host port each container port is published on (tcp), read from the running container. */
  publishedPorts?(name: string): Promise<Map<number, number>>;
  /** Every tag and digest of the runtime's local images (`localhost/x:1`, `repo@sha256:…`, docker's `ubuntu:22.04`). */
  images(): Promise<string[]>;
  /** Whether the runtime resolves `ref` to a local image. */
  hasImage(ref: string): Promise<boolean>;
  /** Pulls `ref` from its registry; rejects with the runtime's message. */
  pull(ref: string): Promise<void>;
}
