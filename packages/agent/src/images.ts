import type { ContainerRuntime } from "./runtime/types.js";

/** `--pull missing`: pull the wanted images the host lacks; `--pull never`: only report (hosts without a registry). */
export type PullPolicy = "missing" | "never";

export interface ImagesReport {
  present: string[];
  pull: PullPolicy;
  failed: { ref: string; error: string }[];
}

/**
 * The wanted images are looked at again after this long (one removed by hand is pulled again), a failed pull tried
 * again; at once when the server's list changes.
 */
const RETRY_MS = 30 * 60_000;
/** At most this many references in a report (the server takes 5000). */
const MAX_REFS = 5000;

/**
 * The host's container images. The server names the images every node should have (the catalog's and the operator's
 * list, in the join and heartbeat answers); with `--pull missing` the ones the runtime lacks are pulled one at a time
 * in the background. Each heartbeat reports every tag and digest the runtime lists — so an image an operator loaded
 * by hand (`podman load`, `docker load`) counts — and the pulls that failed, with the runtime's message. The server
 * places work only where its image is or may be pulled, and refuses it when no node can have it.
 */
export class ImageKeeper {
  private wanted: string[] = [];
  private readonly failed = new Map<string, { error: string; at: number }>();
  private pulling: Promise<void> | undefined;
  private lastRound = Number.NEGATIVE_INFINITY;
  private again = false;

  constructor(
    private readonly runtime: ContainerRuntime,
    readonly policy: PullPolicy,
    private readonly log: (message: string) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** The server's list: with --pull missing, pulls what the host lacks (a changed list retries failed pulls). */
  want(refs: string[]): void {
    const next = [...new Set(refs.filter((r) => r && !r.startsWith("-")))].sort();
    const changed = next.join("\n") !== this.wanted.join("\n");
    if (changed) {
      this.wanted = next;
      this.failed.clear();
    }
    if (this.policy === "missing" && (changed || this.now() - this.lastRound >= RETRY_MS)) void this.pullMissing();
  }

  /** Resolves once the current round of pulls (if any) is over. */
  settled(): Promise<void> {
    return this.pulling ?? Promise.resolve();
  }

  async report(): Promise<ImagesReport> {
    const present = (await this.runtime.images()).slice(0, MAX_REFS);
    const failed = [...this.failed].filter(([ref]) => this.wanted.includes(ref));
    return { present, pull: this.policy, failed: failed.map(([ref, f]) => ({ ref, error: f.error })) };
  }

  /** One round at a time; a list changed during a round gets another round after it. */
  private pullMissing(): Promise<void> {
    if (this.pulling) {
      this.again = true;
      return this.pulling;
    }
    this.pulling = (async () => {
      do {
        this.again = false;
        await this.pullRound();
      } while (this.again);
    })().finally(() => {
      this.pulling = undefined;
    });
    return this.pulling;
  }

  private async pullRound(): Promise<void> {
    this.lastRound = this.now();
    for (const ref of this.wanted) {
      if (await this.runtime.hasImage(ref)) {
        this.failed.delete(ref);
        continue;
      }
      this.log(`image ${ref}: pulling (--pull missing)`);
      const started = this.now();
      try {
        await this.runtime.pull(ref);
        this.failed.delete(ref);
        this.log(`image ${ref}: pulled in ${Math.round((this.now() - started) / 1000)} s`);
      } catch (error) {
        const message = (error as Error).message.slice(0, 2000);
        this.failed.set(ref, { error: message, at: this.now() });
        this.log(
          `WARNING: image ${ref} could not be pulled: ${message}; load it on this host (podman load -i …) or ` +
            "point the catalog at a registry it reaches (docs/agent.md)",
        );
      }
    }
  }
}
