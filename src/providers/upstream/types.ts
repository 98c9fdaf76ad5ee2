import type { GpuFormFactor } from "./gpus.js";

/** The clouds gpuplane resells. */
export const upstreamNames = ["verda", "lambda", "runpod", "e2e"] as const;
export type UpstreamName = (typeof upstreamNames)[number];

export function isUpstreamName(name: string): name is UpstreamName {
  return (upstreamNames as readonly string[]).includes(name);
}

/** Every upstream instance gpuplane launches is named `gp-<instance id>`: the client token that lets a retry adopt. */
export const TAG_PREFIX = "gp-";
export const tagFor = (instanceId: string) => `${TAG_PREFIX}${instanceId}`;
export const instanceIdFromTag = (name: string | null | undefined) =>
  name?.startsWith(TAG_PREFIX) ? name.slice(TAG_PREFIX.length) : null;

/** An upstream instance, in gpuplane's words. `state` maps the cloud's own status; `status` keeps it verbatim. */
export interface UpstreamInstance {
  id: string;
  name: string;
  status: string;
  state: "pending" | "running" | "stopped" | "gone" | "failed" | "unknown";
  ipAddress: string | null;
  sshPort: number | null;
  sshUser: string;
  /** When the upstream says it started running, where the cloud reports it (RunPod's lastStartedAt). */
  runningSince?: Date | null;
  /** Where the pod's exposed ports answer (RunPod's runtime.ports), by private port. */
  ports?: { port: number; protocol: "http" | "tcp"; host: string; hostPort: number; url?: string | null }[];
}

/** An upstream type in one location with its price and whether the upstream says it has capacity. */
export interface UpstreamType {
  upstreamType: string;
  upstreamRegion: string;
  gpuModel: string;
  gpuCount: number;
  gpuMemoryGb: number;
  /** SXM, PCIe or NVL where the cloud says (a customer never gets a lesser part than the type they bought). */
  formFactor: GpuFormFactor | null;
  vcpus: number;
  ramGb: number;
  diskGb: number;
  pricePerHourMicros: bigint;
  available: boolean;
}

export interface LaunchRequest {
  /** The client token: `gp-<instance id>`. */
  name: string;
  upstreamType: string;
  upstreamRegion: string;
  /** The cloud's own image name from the image map: Verda's image_type, Lambda's family, RunPod's image name. */
  image: string;
  sshPublicKeys: string[];
  /** The cloud's ids of the customer's volumes to attach at launch (Verda's `existing_volumes`). */
  volumeIds?: string[];
  /** Only to a cloud with `containerOptions`: the container's env, start command (argv), disk and ports to expose. */
  env?: Record<string, string>;
  command?: string[] | null;
  diskGb?: number | null;
  ports?: { port: number; protocol: "http" | "tcp" }[];
}

/** A customer volume as a cloud's own block storage (Verda): created in the instance's location, kept after it. */
export interface UpstreamVolumes {
  create(volume: { name: string; sizeGb: number; type: "nvme" | "hdd"; location: string }): Promise<string>;
  /**
   * The id of the volume of this name in this location, if the cloud has one: a create whose answer was lost (a
   * timeout, a crash before its id was stored) is adopted by its name, never created twice.
   */
  findByName(name: string, location: string): Promise<string | null>;
  /** Deletes it for good; one already gone is not an error. */
  delete(id: string): Promise<void>;
  /**
   * Every volume of the account (not those in a trash), for the status sync to find what gpuplane no longer sells: an
   * OS volume a delete left, a detached disk no gpuplane volume claims (`upstream_orphans` of kind `volume`).
   */
  list?(): Promise<UpstreamVolume[]>;
}

/** A cloud's volume, in gpuplane's words. */
export interface UpstreamVolume {
  id: string;
  name: string;
  status: string;
  sizeGb: number;
  location: string | null;
  isOsVolume: boolean;
  /** The instance it is attached to, or null when detached. */
  instanceId: string | null;
}

/**
 * When and how a cloud charges for one instance, from the cloud's own documentation (`source` names it). The domain
 * reads it to keep every resold instance's revenue at or above its upstream cost (docs/upstreams.md).
 */
export interface UpstreamBillingRule {
  /** What starts the cloud's charge: the launch call, or the instance first reported running by the cloud. */
  startsAt: "launch" | "running";
  /** What ends it: the terminate (or stop) call, or the cloud reporting the instance gone. */
  endsAt: "call" | "gone";
  /** What a stopped instance keeps costing: its full price (Verda), its storage only (RunPod), nothing. */
  whileStopped: "full" | "storage" | "none" | "cannot-stop";
  /** The increment the cloud rounds each charge up to, in seconds (Lambda: 60). */
  incrementSeconds: number;
  /** The shortest charge, in seconds (0 where none is documented). */
  minimumSeconds: number;
  /** Where this rule comes from: a page of the cloud's docs, an SDK file, a spec, with its version or date. */
  source: string;
}

/**
 * A real cloud's public API, as gpuplane needs it. Every method is one or a few HTTP calls; `list` is one call for
 * every instance of the account, so a reconciliation pass costs one request per provider.
 */
export interface UpstreamCloud {
  readonly name: UpstreamName;
  /** Whether the cloud can stop an instance and start it again (Lambda cannot). */
  readonly canStop: boolean;
  /** When and how the cloud charges (src/domain/providers margins and billing read it). */
  readonly billing: UpstreamBillingRule;
  /** What a stop costs the customer, said on the stop (RunPod wipes the container disk). */
  readonly stopNote?: string;
  /**
   * True where the cloud runs any container image with the customer's env, start command and exposed ports (RunPod);
   * elsewhere an instance asking for them is refused (400) rather than launched without them.
   */
  readonly containerOptions?: boolean;
  /** Present where the cloud carries gpuplane volumes (Verda); elsewhere an instance with volumes is not sold. */
  readonly volumes?: UpstreamVolumes;
  types(): Promise<UpstreamType[]>;
  launch(request: LaunchRequest): Promise<string>;
  list(): Promise<UpstreamInstance[]>;
  terminate(ids: string[]): Promise<void>;
  stop(id: string): Promise<void>;
  start(id: string): Promise<void>;
}
