import type { AppContext } from "../../context.js";
import type { Executor } from "../../db/client.js";
import type { PortMapping } from "../../db/schema/index.js";
import type { InstanceType } from "../catalog/types.js";
import type { InstanceRow } from "../instances/row.js";

export interface SshEndpoint {
  ipAddress: string;
  sshUser: string;
  sshPort: number;
  /** Where each declared port answers (the agent's or the cloud's report); absent: unchanged. */
  portMappings?: PortMapping[];
}

/** What a provider says after it accepted an instance: where it is, and whether it is already reachable. */
export interface Placement {
  providerRef: string | null;
  nodeId?: number | null;
  /** Set when the instance is reachable at once (an unmanaged fleet node); otherwise it is provisioning. */
  running?: SshEndpoint;
  /**
   * The provider launches later, outside this transaction (an upstream cloud, by the provisioning worker, from the
   * launch plan it recorded): the instance waits `ordered`, where that plan starts (its first offer's cloud and
   * region). The lifecycle writes it (applyPlacement); a provider never writes an instance's state.
   */
  deferred?: { provider: string; regionId: string };
}

export interface ProvisionOptions {
  /** The customer named the region: a failover stays in it. Unnamed (seed 000), any region with the type will do. */
  regionPinned?: boolean;
  /** When every offer refuses, go to the waitlist instead of failing. */
  waitlist?: boolean;
  /** What the create already read, so the provider need not read it again: the image row, the volumes attached. */
  image?: { id: string; upstreamImages: Record<string, string> | null; ociRef: string | null };
  volumes?: { id: string; regionId: string }[];
  /** What the customer set beyond the catalog (own image, env, command, ports): only some clouds can carry it. */
  container?: { imageRef?: string | null; env?: unknown[]; command?: string[] | null; ports?: unknown[] };
}

/** What the provider reports for one instance; `unchanged` when it has nothing newer than the record. */
export type ProviderStatus =
  | { state: "unchanged" }
  | { state: "running"; endpoint: SshEndpoint }
  | { state: "failed"; reason: string }
  | { state: "lost"; reason: string }
  | { state: "deleted" };

/**
 * Where instances run. Calls that change capacity take the caller's transaction, so the capacity check, the claim
 * and the instance's state change commit (or roll back) together; `status` is read-only and runs outside.
 */
export interface Provider {
  readonly name: "fleet" | "simulator" | "upstream";
  /** How many more instances of `type` fit in `regionId` now. */
  capacity(ctx: AppContext, db: Executor, type: InstanceType, regionId: string): Promise<number>;
  /** Claims capacity for a new instance; null when there is none. */
  provision(
    ctx: AppContext,
    tx: Executor,
    instance: InstanceRow,
    options?: ProvisionOptions,
  ): Promise<Placement | null>;
  /** Claims capacity again for a stopped instance; null when there is none. */
  start(ctx: AppContext, tx: Executor, instance: InstanceRow): Promise<Placement | null>;
  /**
   * Gives the instance's capacity back; its disk (and volumes) stay. May answer a note the customer should read with
   * the stop (RunPod: the container disk is wiped).
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: fleet and simulator stops answer nothing; an upstream's a note.
  stop(ctx: AppContext, tx: Executor, instance: InstanceRow): Promise<void | string>;
  /** The instance is lost or failed: give its capacity back without asking anything of it (default: stop). */
  release?(ctx: AppContext, tx: Executor, instance: InstanceRow): Promise<void>;
  /** Tears the instance down; true when it is gone at once, false when status() will report `deleted` later. */
  delete(ctx: AppContext, tx: Executor, instance: InstanceRow): Promise<boolean>;
  status(ctx: AppContext, instance: InstanceRow): Promise<ProviderStatus>;
  /**
   * A provider whose stop and delete are confirmed later (an upstream cloud): true when this instance's are. Then
   * stop/start/delete only check in the transaction (409, 502 at once), the lifecycle commits `stopping`, `deleting`
   * or `provisioning` with the run still billed, calls `request` after the commit, and the status sync finishes it.
   */
  confirmsLater?(instance: InstanceRow): boolean;
  request?(ctx: AppContext, instance: InstanceRow, action: "start" | "stop" | "delete"): Promise<void>;
  /**
   * True when something runs the instance that must confirm it stopped (a node agent's container): stop and delete
   * then wait, billed and holding capacity, for confirmInstanceStopped. Absent or false: they complete at once.
   */
  awaitsStop?(ctx: AppContext, tx: Executor, instance: InstanceRow): Promise<boolean>;
}
