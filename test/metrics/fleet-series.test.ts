import { expect, it } from "vitest";
import { describeEachDb } from "../helpers/harness.js";

describeEachDb(
  "the fleet's utilization over time",
  (h) => {
    it("averages every GPU's samples per step, for the operator only", async () => {
      const t0 = h().clock.now().getTime();
      const cluster = (await h().post("/api/v1/clusters", { name: "f" })).body.data.id;
      const node = (await h().post("/api/v1/nodes", { cluster_id: cluster, hostname: "f1" })).body.data.id;
      const gpus = (await h().post("/api/v1/gpus", { node_id: node, gpus: [{ gpu_index: 0 }, { gpu_index: 1 }] })).body
        .data;
      h().clock.advance(10 * 60_000); // the samples below are from the GPUs' first minutes, now 10 minutes ago
      const at = (minutes: number) => new Date(t0 + minutes * 60_000).toISOString();
      const metrics = [
        { gpu_id: gpus[0].id, ts: at(0), utilization_pct: 20 },
        { gpu_id: gpus[1].id, ts: at(0), utilization_pct: 40 },
        { gpu_id: gpus[0].id, ts: at(1), utilization_pct: 60 },
        { gpu_id: gpus[1].id, ts: at(1), utilization_pct: 80 },
      ];
      expect((await h().post("/api/v1/metrics", { metrics })).status).toBeLessThan(300);
      const res = await h().get(`/api/v1/metrics/fleet?from=${at(0)}&to=${at(2)}&step=60`);
      expect(res.status).toBe(200);
      expect(res.body.data.points.map((p: any) => [p.ts, p.samples, p.utilization_pct])).toEqual([
        [at(0), 2, 30],
        [at(1), 2, 70],
      ]);
      const tenant = await h().signup();
      expect((await h().get("/api/v1/metrics/fleet", tenant.key)).status).toBe(403);
      expect((await h().get("/api/v1/metrics/fleet?step=fast")).status).toBe(400);
    });
  },
  { manualClock: true },
);
