import { randomUUID } from "node:crypto";
import { type ApiClient, Refused } from "./client.js";
import type { StateDir } from "./state.js";
import type { MetricSample } from "./wire.js";

export interface Batch {
  id: string;
  metrics: MetricSample[];
}

export interface OutboxOptions {
  /** Batches kept in memory and on disk while the server is unreachable; the oldest are dropped beyond this. */
  maxBatches: number;
  log: (message: string) => void;
}

/**
 * Metric batches on their way to POST /api/v1/metrics. Each batch has an id sent as its Idempotency-Key, so a batch
 * whose response was lost is answered from the server's stored response when resent, not counted twice. A batch is
 * written to disk before the first send and deleted once accepted: an outage or an agent restart loses nothing
 * (up to maxBatches, oldest dropped first).
 */
export class MetricsOutbox {
  private readonly state: StateDir;
  private readonly options: OutboxOptions;
  private pending: Batch[] = [];
  dropped = 0;
  sent = 0;

  constructor(state: StateDir, options: OutboxOptions) {
    this.state = state;
    this.options = options;
    for (const file of state.list("outbox")) {
      if (!file.endsWith(".json")) continue;
      const batch = state.readJson<Batch>("outbox", file);
      if (batch?.id && Array.isArray(batch.metrics)) this.pending.push(batch);
    }
    this.trim();
  }

  get size(): number {
    return this.pending.length;
  }

  add(metrics: MetricSample[]): Batch | undefined {
    if (!metrics.length) return undefined;
    // Time-ordered file names keep the send order across restarts.
    const batch: Batch = { id: `${Date.now().toString(36).padStart(9, "0")}-${randomUUID()}`, metrics };
    this.state.writeJson(batch, "outbox", `${batch.id}.json`);
    this.pending.push(batch);
    this.trim();
    return batch;
  }

  /** Sends what is pending, oldest first; stops at the first failure to reach the server (tried again next time). */
  async flush(client: ApiClient): Promise<void> {
    while (this.pending.length) {
      const batch = this.pending[0];
      try {
        await client.request("POST", "/metrics", {
          body: { metrics: batch.metrics },
          idempotencyKey: `metrics-${batch.id}`,
          timeoutMs: 15_000,
        });
        this.sent++;
      } catch (error) {
        if (!(error instanceof Refused) || error.status === 401) throw error;
        // Refused as malformed (e.g. a GPU the server no longer knows): resending would be refused again.
        this.options.log(`metrics batch ${batch.id} refused, dropped: ${error.message}`);
        this.dropped++;
      }
      this.pending.shift();
      this.state.remove("outbox", `${batch.id}.json`);
    }
  }

  private trim(): void {
    while (this.pending.length > this.options.maxBatches) {
      const oldest = this.pending.shift()!;
      this.state.remove("outbox", `${oldest.id}.json`);
      this.dropped++;
    }
  }
}
