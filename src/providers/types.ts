import type { AppContext } from "../context.js";
import type { Executor } from "../db/client.js";
import type { instances } from "../db/schema/index.js";
import type { InstanceType } from "../domain/catalog/types.js";

export type InstanceRow = typeof instances.$inferSelect;

export interface SshEndpoint {
  ipAddress: string;
  sshUser: string;
  sshPort: number;
}

/** What a provider says after it accepted an instance: where it is, and whether it is already reachable. */
export interface Placement {
  providerRef: string;
  nodeId?: number | null;
  /** Set when the instance is reachable at once (an unmanaged fleet node); otherwise it is provisioning. */
  running?: SshEndpoint;
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
  readonly name: "fleet" | "simulator";
  /** How many more instances of `type` fit in `regionId` now. */
  capacity(ctx: AppContext, db: Executor, type: InstanceType, regionId: string): Promise<number>;
  /** Claims capacity for a new instance; null when there is none. */
  provision(ctx: AppContext, tx: Executor, instance: InstanceRow): Promise<Placement | null>;
  /** Claims capacity again for a stopped instance; null when there is none. */
  start(ctx: AppContext, tx: Executor, instance: InstanceRow): Promise<Placement | null>;
  /** Gives the instance's capacity back; its disk (and volumes) stay. */
  stop(ctx: AppContext, tx: Executor, instance: InstanceRow): Promise<void>;
  /** Tears the instance down; true when it is gone at once, false when status() will report `deleted` later. */
  delete(ctx: AppContext, tx: Executor, instance: InstanceRow): Promise<boolean>;
  status(ctx: AppContext, instance: InstanceRow): Promise<ProviderStatus>;
  /**
   * True when something runs the instance that must confirm it stopped (a node agent's container): stop and delete
   * then wait, billed and holding capacity, for confirmInstanceStopped. Absent or false: they complete at once.
   */
  awaitsStop?(ctx: AppContext, tx: Executor, instance: InstanceRow): Promise<boolean>;
}
