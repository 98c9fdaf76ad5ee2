import { sql } from "drizzle-orm";
import { afterAll, expect, it } from "vitest";
import { queryRows } from "../../src/db/sql.js";
import { flushLatestMetrics, startLatestFlusher, stopLatestFlusher } from "../../src/domain/metrics/latest.js";
import { maintainMetrics } from "../../src/domain/metrics/maintenance.js";
import { describeEachDb } from "../helpers/harness.js";

const T0 = new Date("2026-03-02T08:00:00Z");
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000).toISOString();
/** Longer than any test: the flush happens when a test calls it, never on its own. */
const NEVER = 3_600_000;

describeEachDb(
  "metrics: newest samples buffered per process and flushed in one upsert",
  (h) => {
    let gpus: number[] = [];
    let spareNode: number;
    let spareGpus: number[] = [];
    const latestOf = async (id: number, key?: string) =>
      (await h().get(`/api/v1/gpus/${id}`, key)).body.data.latest_metrics;
    const historyCount = async () =>
      Number((await queryRows<{ n: number }>(h().ctx.db, sql`select count(*)::int as n from gpu_metrics`))[0].n);

    afterAll(() => stopLatestFlusher(h().ctx));

    it("sets up GPUs on two nodes and starts the flusher, as a serving process does", async () => {
      const cluster = (await h().post("/api/v1/clusters", { name: "l" })).body.data.id;
      const node = (await h().post("/api/v1/nodes", { cluster_id: cluster, hostname: "l1" })).body.data.id;
      spareNode = (await h().post("/api/v1/nodes", { cluster_id: cluster, hostname: "l2" })).body.data.id;
      const four = [0, 1, 2, 3].map((gpu_index) => ({ gpu_index }));
      gpus = (await h().post("/api/v1/gpus", { node_id: node, gpus: four })).body.data.map((g: any) => g.id);
      spareGpus = (await h().post("/api/v1/gpus", { node_id: spareNode, gpus: four })).body.data.map((g: any) => g.id);
      await maintainMetrics(h().ctx);
      startLatestFlusher(h().ctx, NEVER);
    });

    it("stores history at once and the newest sample per GPU at the flush", async () => {
      const res = await h().post("/api/v1/metrics", {
        metrics: [
          { gpu_id: gpus[0], ts: at(-20), utilization_pct: 10 },
          { gpu_id: gpus[0], ts: at(-10), utilization_pct: 20 },
          { gpu_id: gpus[0], ts: at(-15), utilization_pct: 15 },
          { gpu_id: gpus[1], utilization_pct: 5 }, // stamped with the server's clock
        ],
      });
      expect(res.status).toBe(201);
      expect(res.body.data).toEqual({ accepted: 4, gpu_count: 2 });
      expect(await historyCount()).toBe(4);
      expect(await latestOf(gpus[0])).toBeNull();
      expect(await flushLatestMetrics(h().ctx)).toBe(2);
      expect(await latestOf(gpus[0])).toMatchObject({ ts: at(-10), utilization_pct: 20 });
      expect(await latestOf(gpus[1])).toMatchObject({ ts: T0.toISOString(), utilization_pct: 5 });
      expect(await flushLatestMetrics(h().ctx)).toBe(0); // nothing new
    });

    it("merges batches between flushes: the newest wins, an older batch never replaces it", async () => {
      await h().post("/api/v1/metrics", { metrics: [{ gpu_id: gpus[2], ts: at(-5), utilization_pct: 50 }] });
      await h().post("/api/v1/metrics", { metrics: [{ gpu_id: gpus[2], ts: at(-30), utilization_pct: 30 }] });
      await h().post("/api/v1/metrics", { metrics: [{ gpu_id: gpus[0], ts: at(-60), utilization_pct: 1 }] });
      await flushLatestMetrics(h().ctx);
      expect(await latestOf(gpus[2])).toMatchObject({ ts: at(-5), utilization_pct: 50 });
      expect(await latestOf(gpus[0])).toMatchObject({ ts: at(-10), utilization_pct: 20 }); // stored one is newer
    });

    it("replicas flushing in any order never move a GPU's latest backwards", async () => {
      const replica = await h().replica();
      startLatestFlusher(replica.ctx, NEVER);
      try {
        await replica.post("/api/v1/metrics", { metrics: [{ gpu_id: gpus[3], ts: at(-2), utilization_pct: 2 }] });
        await h().post("/api/v1/metrics", { metrics: [{ gpu_id: gpus[3], ts: at(-1), utilization_pct: 1 }] });
        await flushLatestMetrics(h().ctx);
        await flushLatestMetrics(replica.ctx); // older, and later: must not win
        expect(await latestOf(gpus[3])).toMatchObject({ ts: at(-1), utilization_pct: 1 });
      } finally {
        await replica.close();
      }
    });

    it("a GPU deleted before the flush gets no latest row back; shutdown writes what is left", async () => {
      await h().post("/api/v1/metrics", { metrics: spareGpus.map((gpu_id) => ({ gpu_id, utilization_pct: 9 })) });
      expect((await h().del(`/api/v1/nodes/${spareNode}`)).status).toBe(200);
      await h().post("/api/v1/metrics", { metrics: [{ gpu_id: gpus[1], ts: at(1), utilization_pct: 7 }] });
      await stopLatestFlusher(h().ctx);
      const rows = await queryRows<{ gpu_id: number }>(
        h().ctx.db,
        sql`select gpu_id from gpu_latest_metrics where gpu_id = any(${`{${spareGpus.join(",")}}`}::int[])`,
      );
      expect(rows).toEqual([]);
      expect(await latestOf(gpus[1])).toMatchObject({ ts: at(1), utilization_pct: 7 });
      // Without a flusher, ingest writes the latest sample in the batch's own transaction again.
      await h().post("/api/v1/metrics", { metrics: [{ gpu_id: gpus[1], ts: at(2), utilization_pct: 8 }] });
      expect(await latestOf(gpus[1])).toMatchObject({ ts: at(2), utilization_pct: 8 });
    });
  },
  { manualClock: T0 },
);
