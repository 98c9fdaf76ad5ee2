import { sql } from "drizzle-orm";
import { expect, it } from "vitest";
import { queryRows } from "../../src/db/sql.js";
import { createKey } from "../../src/domain/identity/keys.js";
import { maintainMetrics } from "../../src/domain/metrics/maintenance.js";
import { listPartitions } from "../../src/domain/metrics/partitions.js";
import { describeEachDb } from "../helpers/harness.js";

const T0 = new Date("2026-03-02T08:00:00Z");

describeEachDb(
  "metrics: ingest, range queries, roll-ups, retention",
  (h) => {
    let gpuIds: number[] = [];
    let otherGpu: number;
    let nodeId: number;
    let nodeKey: string;

    it("sets up two nodes with GPUs and a node credential", async () => {
      const cluster = (await h().post("/api/v1/clusters", { name: "m" })).body.data.id;
      nodeId = (await h().post("/api/v1/nodes", { cluster_id: cluster, hostname: "m1" })).body.data.id;
      const other = (await h().post("/api/v1/nodes", { cluster_id: cluster, hostname: "m2" })).body.data.id;
      const gpus = [...Array(50).keys()].map((i) => ({ gpu_index: i, model: "NVIDIA H100 80GB HBM3" }));
      gpuIds = (await h().post("/api/v1/gpus", { node_id: nodeId, gpus })).body.data.map((g: any) => g.id);
      otherGpu = (await h().post("/api/v1/gpus", { node_id: other, gpus: [{ gpu_index: 0 }] })).body.data[0].id;
      // In the fleet since yesterday: the history ingested below predates T0, and samples before a GPU's registration
      // are refused.
      await h().ctx.db.execute(sql`update gpus set created_at = created_at - interval '1 day'`);
      const key = await createKey(h().ctx, h().ctx.db, { label: "agent", tenantId: null, nodeId });
      nodeKey = key.key;
      await maintainMetrics(h().ctx); // partitions for yesterday … today + 2
      const names = (await listPartitions(h().ctx.db)).map((p) => p.name);
      expect(names).toEqual([
        "gpu_metrics_p20260301",
        "gpu_metrics_p20260302",
        "gpu_metrics_p20260303",
        "gpu_metrics_p20260304",
      ]);
    });

    it("ingests a batch of thousands of samples and keeps the newest per GPU", async () => {
      // 50 GPUs × 120 samples, one every 30 s over the hour before T0, utilization = minute of the hour.
      const metrics = [];
      for (let k = 0; k < 120; k++) {
        const ts = new Date(T0.getTime() - 3600_000 + k * 30_000);
        for (const gpu_id of gpuIds) {
          metrics.push({
            gpu_id,
            ts: ts.toISOString(),
            utilization_pct: Math.floor(k / 2),
            memory_used_mb: 1000 + k,
            memory_total_mb: 81559,
            temperature_c: 40 + (k % 10),
            power_draw_w: 300,
          });
        }
      }
      expect(metrics.length).toBe(6000);
      const res = await h().post("/api/v1/metrics", { metrics });
      expect(res.status).toBe(201);
      expect(res.body.data).toEqual({ accepted: 6000, gpu_count: 50 });
      const [{ n }] = await queryRows<{ n: number }>(h().ctx.db, sql`select count(*)::int as n from gpu_metrics`);
      expect(Number(n)).toBe(6000);
      const gpu = await h().get(`/api/v1/gpus/${gpuIds[0]}`);
      expect(gpu.body.data.latest_metrics).toMatchObject({
        ts: new Date(T0.getTime() - 30_000).toISOString(),
        utilization_pct: 59,
        memory_used_mb: 1119,
      });
      // An older sample does not replace the newest.
      await h().post("/api/v1/metrics", {
        metrics: [{ gpu_id: gpuIds[0], ts: "2026-03-02T06:00:00Z", utilization_pct: 1 }],
      });
      expect((await h().get(`/api/v1/gpus/${gpuIds[0]}`)).body.data.latest_metrics.utilization_pct).toBe(59);
    });

    it("stamps samples without ts with the server's clock", async () => {
      const res = await h().post("/api/v1/metrics", { metrics: [{ gpu_id: otherGpu, utilization_pct: 12.5 }] });
      expect(res.status).toBe(201);
      const gpu = await h().get(`/api/v1/gpus/${otherGpu}`);
      expect(gpu.body.data.latest_metrics).toMatchObject({ ts: T0.toISOString(), utilization_pct: 12.5 });
    });

    it("refuses unknown GPUs (400 naming them) and bad values (400 naming the field), storing nothing", async () => {
      const before = await queryRows<{ n: number }>(h().ctx.db, sql`select count(*)::int as n from gpu_metrics`);
      const unknown = await h().post("/api/v1/metrics", {
        metrics: [{ gpu_id: gpuIds[0] }, { gpu_id: 987654 }, { gpu_id: 987655 }],
      });
      expect(unknown.status).toBe(400);
      expect(unknown.body.error).toContain("987654");
      expect(unknown.body.error).toContain("987655");
      const bad = await h().post("/api/v1/metrics", { metrics: [{ gpu_id: gpuIds[0], utilization_pct: 140 }] });
      expect(bad.status).toBe(400);
      expect(bad.body.error).toContain("metrics.0.utilization_pct");
      expect((await h().post("/api/v1/metrics", { metrics: [] })).status).toBe(400);
      expect((await h().post("/api/v1/metrics", {})).body.error).toContain("metrics");
      const future = await h().post("/api/v1/metrics", {
        metrics: [{ gpu_id: gpuIds[0], ts: "2026-03-03T00:00:00Z" }],
      });
      expect(future.status).toBe(400);
      expect(future.body.error).toContain("metrics.0.ts");
      const after = await queryRows<{ n: number }>(h().ctx.db, sql`select count(*)::int as n from gpu_metrics`);
      expect(after[0].n).toBe(before[0].n);
    });

    it("lets a node key write only its own GPUs, and not read the fleet", async () => {
      const own = await h().post("/api/v1/metrics", { metrics: [{ gpu_id: gpuIds[1], utilization_pct: 5 }] }, nodeKey);
      expect(own.status).toBe(201);
      const foreign = await h().post(
        "/api/v1/metrics",
        { metrics: [{ gpu_id: gpuIds[1] }, { gpu_id: otherGpu }] },
        nodeKey,
      );
      expect(foreign.status).toBe(404);
      expect(foreign.body.error).toContain(String(otherGpu));
      expect((await h().get(`/api/v1/gpus/${gpuIds[1]}/metrics`, nodeKey)).status).toBe(403);
      const tenant = await h().signup();
      expect((await h().post("/api/v1/metrics", { metrics: [{ gpu_id: gpuIds[1] }] }, tenant.key)).status).toBe(403);
    });

    it("answers a range at raw resolution, averaged per step", async () => {
      const from = new Date(T0.getTime() - 3600_000).toISOString();
      const res = await h().get(`/api/v1/gpus/${gpuIds[2]}/metrics?from=${from}&to=${T0.toISOString()}&step=30s`);
      expect(res.status).toBe(200);
      expect(res.body.data.source).toBe("raw");
      expect(res.body.data.points).toHaveLength(120);
      expect(res.body.data.points[3]).toMatchObject({ samples: 1, utilization_pct: 1, memory_used_mb: 1003 });
      const bad = await h().get(`/api/v1/gpus/${gpuIds[2]}/metrics?step=fast`);
      expect(bad.status).toBe(400);
      expect(bad.body.error).toContain("step");
      expect((await h().get(`/api/v1/gpus/999999/metrics`)).status).toBe(404);
    });

    it("rolls samples up per minute and per hour; long steps read the roll-ups", async () => {
      // Minute roll-up right away: before the worker runs, a 5-minute step reads raw samples past the mark.
      const from = new Date(T0.getTime() - 3600_000).toISOString();
      const before = await h().get(`/api/v1/gpus/${gpuIds[3]}/metrics?from=${from}&to=${T0.toISOString()}&step=5m`);
      expect(before.body.data.source).toBe("1m");
      expect(before.body.data.points).toHaveLength(12);
      h().clock.set(new Date(T0.getTime() + 10 * 60_000));
      const pass = await maintainMetrics(h().ctx);
      expect(pass.minuteBuckets).toBeGreaterThanOrEqual(50 * 60);
      expect(pass.hourBuckets).toBe(51); // 07:00–08:00 for 50 GPUs, and the one sample at 06:00
      const minutes = await queryRows<{ samples: number; utilization_avg: number }>(
        h().ctx.db,
        sql`select samples, utilization_avg from gpu_metrics_1m where gpu_id = ${gpuIds[3]} order by bucket limit 2`,
      );
      expect(minutes.map((m) => [m.samples, Number(m.utilization_avg)])).toEqual([
        [2, 0],
        [2, 1],
      ]);
      const after = await h().get(`/api/v1/gpus/${gpuIds[3]}/metrics?from=${from}&to=${T0.toISOString()}&step=5m`);
      expect(after.body.data.points).toEqual(before.body.data.points);
      expect(after.body.data.points[0]).toMatchObject({ samples: 10, utilization_pct: 2, utilization_max: 4 });
      const hourly = await h().get(`/api/v1/gpus/${gpuIds[3]}/metrics?from=${from}&to=${T0.toISOString()}&step=1h`);
      expect(hourly.body.data.source).toBe("1h");
      expect(hourly.body.data.points).toEqual([
        expect.objectContaining({ ts: from, samples: 120, utilization_pct: 29.5, utilization_max: 59 }),
      ]);
      // A second pass writes the same rows again: nothing doubles.
      await maintainMetrics(h().ctx);
      const again = await h().get(`/api/v1/gpus/${gpuIds[3]}/metrics?from=${from}&to=${T0.toISOString()}&step=1h`);
      expect(again.body.data.points[0].samples).toBe(120);
    });

    it("drops raw partitions past retention while roll-ups answer for the old range", async () => {
      h().clock.set(new Date("2026-03-06T12:00:00Z"));
      const pass = await maintainMetrics(h().ctx, { rawRetentionDays: 3 });
      expect(pass.droppedPartitions).toEqual(["gpu_metrics_p20260301", "gpu_metrics_p20260302"]);
      const [{ n }] = await queryRows<{ n: number }>(h().ctx.db, sql`select count(*)::int as n from gpu_metrics`);
      expect(Number(n)).toBe(0);
      const names = (await listPartitions(h().ctx.db)).map((p) => p.name);
      expect(names).toContain("gpu_metrics_p20260308");
      const from = new Date(T0.getTime() - 3600_000).toISOString();
      const res = await h().get(`/api/v1/gpus/${gpuIds[3]}/metrics?from=${from}&to=${T0.toISOString()}&step=30s`);
      expect(res.body.data.source).toBe("1m");
      expect(res.body.data.points).toHaveLength(60);
      // Minute roll-ups expire later still; the hour table keeps the longest history.
      await maintainMetrics(h().ctx, { rawRetentionDays: 3, minuteRetentionDays: 1 });
      const [{ m }] = await queryRows<{ m: number }>(h().ctx.db, sql`select count(*)::int as m from gpu_metrics_1m`);
      expect(Number(m)).toBe(0);
      const hourly = await h().get(`/api/v1/gpus/${gpuIds[3]}/metrics?from=${from}&to=${T0.toISOString()}&step=1h`);
      expect(hourly.body.data.points[0].samples).toBe(120);
    });

    it("moves samples that landed in the default partition into a new day's partition", async () => {
      await h().post("/api/v1/metrics", {
        metrics: [{ gpu_id: gpuIds[0], ts: "2026-03-06T11:59:00Z", utilization_pct: 3 }],
      });
      await h().ctx.db.execute(sql.raw(`drop table gpu_metrics_p20260306`));
      await h().post("/api/v1/metrics", {
        metrics: [{ gpu_id: gpuIds[0], ts: "2026-03-06T11:59:30Z", utilization_pct: 4 }],
      });
      const [{ d }] = await queryRows<{ d: number }>(
        h().ctx.db,
        sql`select count(*)::int as d from gpu_metrics_default`,
      );
      expect(Number(d)).toBe(1);
      const pass = await maintainMetrics(h().ctx);
      expect(pass.createdPartitions).toEqual(["gpu_metrics_p20260306"]);
      const rows = await queryRows<{ n: number }>(
        h().ctx.db,
        sql`select count(*)::int as n from gpu_metrics_p20260306`,
      );
      expect(Number(rows[0].n)).toBe(1);
    });
  },
  { manualClock: T0 },
);
