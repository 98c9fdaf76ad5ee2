import { createHash } from "node:crypto";
import { and, eq, inArray, ne, sql } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import type { Executor } from "../../db/client.js";
import { instances, regions } from "../../db/schema/index.js";
import { sshUserForImage } from "../catalog/defaults.js";
import type { InstanceType } from "../catalog/types.js";
import type { InstanceRow } from "../instances/row.js";
import { gpuHoldingInstanceStates } from "../quota.js";
import type { Placement, Provider, ProviderStatus } from "./types.js";

/** GPUs per model in each region of the default catalog. eu-central-1 has no B200s: a waitlist to try. */
export const defaultSimulatorCapacity: Record<string, Record<string, number>> = {
  "FIN-01": { H100: 64, H200: 32, B200: 16, A100: 32, "RTX 6000": 32 },
  "ICE-01": { H100: 32, H200: 16, B200: 8, A100: 16, "RTX 6000": 16 },
  "eu-central-1": { H100: 32, H200: 16, B200: 0, A100: 16, "RTX 6000": 16 },
  "us-east-1": { H100: 64, H200: 32, B200: 16, A100: 32, "RTX 6000": 32 },
};

export interface SimulatorOptions {
  /** GPUs per region and model; a region or model it does not name has none. */
  capacity?: Record<string, Record<string, number>>;
  /** How long provisioning takes, by ctx.clock. */
  provisionMs?: number;
  /** Share of provisions that fail (0..1), like an upstream cloud having a bad day. */
  failureRate?: number;
  random?: () => number;
  /** Called when setCapacity gives a region more GPUs of a model (the waitlist may deploy into them). */
  onCapacityRaised?: () => void;
}

/**
 * A stand-in for an upstream GPU cloud, so the embedded default is a working cloud without hardware. Its instances
 * are the instance rows themselves (so a restart loses nothing); what it adds is capacity per region and GPU model,
 * a provisioning delay, a failure rate and faults a test can inject. Faults live in memory: they are for tests.
 *
 * It lives with the placement code, not with the cloud adapters in src/providers/: it has no outside to adapt. Its
 * "cloud" is the instance table itself (free GPUs = capacity − instances holding GPUs, under a region row lock), so
 * it is a placement policy over gpuplane's own records, as the fleet is; an adapter returns records from elsewhere.
 */
export class SimulatorProvider implements Provider {
  readonly name = "simulator" as const;
  capacityByRegion: Record<string, Record<string, number>>;
  provisionMs: number;
  failureRate: number;
  private random: () => number;
  private onCapacityRaised: () => void;
  private failNextCount = 0;
  private failing = new Map<string, string>();
  private lost = new Map<string, string>();

  constructor(options: SimulatorOptions = {}) {
    this.capacityByRegion = structuredClone(options.capacity ?? defaultSimulatorCapacity);
    this.provisionMs = options.provisionMs ?? 5_000;
    this.failureRate = options.failureRate ?? 0;
    this.random = options.random ?? Math.random;
    this.onCapacityRaised = options.onCapacityRaised ?? (() => {});
  }

  /** Sets how many GPUs of a model a region has. */
  setCapacity(regionId: string, gpuModel: string, gpus: number): void {
    const before = this.capacityByRegion[regionId]?.[gpuModel] ?? 0;
    this.capacityByRegion[regionId] = { ...this.capacityByRegion[regionId], [gpuModel]: gpus };
    if (gpus > before) this.onCapacityRaised();
  }

  /** The next `count` provisions fail once their provisioning time is up. */
  failNextProvision(count = 1): void {
    this.failNextCount += count;
  }

  /** The upstream loses a running instance (host died): the next status sync reports it lost. */
  loseInstance(instanceId: string, reason = "the upstream host stopped responding"): void {
    this.lost.set(instanceId, reason);
  }

  async capacity(_ctx: AppContext, db: Executor, type: InstanceType, regionId: string): Promise<number> {
    const free = await this.freeGpus(db, type.gpuModel, regionId);
    return Math.max(0, Math.floor(free / type.gpuCount));
  }

  async provision(ctx: AppContext, tx: Executor, instance: InstanceRow): Promise<Placement | null> {
    // One claim per region at a time: two requests must not both take the last GPUs.
    await tx.execute(sql`select id from ${regions} where ${regions.id} = ${instance.regionId} for update`);
    const free = await this.freeGpus(tx, instance.gpuModel, instance.regionId, instance.id);
    if (free < instance.gpuCount) return null;
    if (this.failNextCount > 0) {
      this.failNextCount--;
      this.failing.set(instance.id, "the upstream provider could not provision the host (injected fault)");
    } else if (this.failureRate > 0 && this.random() < this.failureRate) {
      this.failing.set(instance.id, "the upstream provider could not provision the host");
    }
    this.lost.delete(instance.id);
    ctx.log.debug({ instance: instance.id }, "simulator: provisioning");
    return { providerRef: `sim-${instance.regionId.toLowerCase()}-${instance.id.slice(-12)}` };
  }

  start(ctx: AppContext, tx: Executor, instance: InstanceRow): Promise<Placement | null> {
    return this.provision(ctx, tx, instance);
  }

  async stop(): Promise<void> {
    // Capacity is counted from instance states: a stopped instance holds none.
  }

  async delete(_ctx: AppContext, _tx: Executor, instance: InstanceRow): Promise<boolean> {
    this.failing.delete(instance.id);
    this.lost.delete(instance.id);
    return true;
  }

  async status(ctx: AppContext, instance: InstanceRow): Promise<ProviderStatus> {
    if (instance.status === "running") {
      const reason = this.lost.get(instance.id);
      return reason ? { state: "lost", reason } : { state: "unchanged" };
    }
    if (instance.status === "provisioning") {
      const readyAt = instance.updatedAt.getTime() + this.provisionMs;
      if (ctx.clock.now().getTime() < readyAt) return { state: "unchanged" };
      const failure = this.failing.get(instance.id);
      if (failure) {
        this.failing.delete(instance.id);
        return { state: "failed", reason: failure };
      }
      return {
        state: "running",
        endpoint: { ipAddress: simulatedIp(instance.id), sshUser: sshUserForImage(instance.imageId), sshPort: 22 },
      };
    }
    if (instance.status === "deleting") return { state: "deleted" };
    return { state: "unchanged" };
  }

  private async freeGpus(db: Executor, gpuModel: string, regionId: string, exceptInstance?: string) {
    const total = this.capacityByRegion[regionId]?.[gpuModel] ?? 0;
    const [used] = await db
      .select({ n: sql<string>`coalesce(sum(${instances.gpuCount}), 0)` })
      .from(instances)
      .where(
        and(
          eq(instances.provider, "simulator"),
          eq(instances.regionId, regionId),
          eq(instances.gpuModel, gpuModel),
          inArray(instances.status, [...gpuHoldingInstanceStates]),
          exceptInstance ? ne(instances.id, exceptInstance) : undefined,
        ),
      );
    return total - Number(used.n);
  }
}

/** A stable address per instance in 100.64.0.0/10 (carrier-grade NAT space, never routed on the internet). */
export function simulatedIp(instanceId: string): string {
  const h = createHash("sha256").update(instanceId).digest();
  return `100.${64 + (h[0] % 64)}.${h[1]}.${1 + (h[2] % 254)}`;
}
