import { sql } from "drizzle-orm";
import pino from "pino";
import { expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { openDatabase } from "../../src/db/client.js";
import { queryRows } from "../../src/db/sql.js";
import { allocateGpus } from "../../src/domain/fleet/allocate.js";
import { runSchedulerPass } from "../../src/domain/jobs/scheduler.js";
import { buildServer } from "../../src/server.js";
import { describeEachDb, OPERATOR_KEY } from "../helpers/harness.js";
import { addCluster, addNode, submit, tenantWithQuota } from "./fleet-fixture.js";

/** No GPU held twice: allocations per GPU, and each scheduled/running job's allocations match its gpu_count. */
async function assertNoDoubleBooking(h: any) {
  const rows = await queryRows<{ gpu_id: number; n: string }>(
    h.ctx.db,
    sql`select gpu_id, count(*)::text as n from gpu_allocations group by gpu_id having count(*) > 1`,
  );
  expect(rows).toEqual([]);
  const mismatched = await queryRows(
    h.ctx.db,
    sql`select j.id from jobs j left join gpu_allocations a on a.job_id = j.id
        where j.status in ('scheduled', 'running') group by j.id, j.gpu_count having count(a.gpu_id) <> j.gpu_count`,
  );
  expect(mismatched).toEqual([]);
  const leaked = await queryRows(
    h.ctx.db,
    sql`select a.gpu_id from gpu_allocations a join jobs j on j.id = a.job_id where j.status not in ('scheduled', 'running')`,
  );
  expect(leaked).toEqual([]);
}

describeEachDb("scheduler: one GPU, one workload", (h) => {
  it("two server replicas on one database racing passes never give a GPU to two jobs", async () => {
    const cluster = await addCluster(h());
    for (let i = 0; i < 6; i++) await addNode(h(), cluster, 8);
    const t = await tenantWithQuota(h(), 1000);
    for (let i = 0; i < 80; i++) await submit(h(), { cluster_id: cluster, gpu_count: 1 + (i % 4) }, t.key);

    // A second app instance on the same database (PostgreSQL), or a second pass in this one (PGlite).
    let other: Awaited<ReturnType<typeof buildServer>> | undefined;
    let otherDb: Awaited<ReturnType<typeof openDatabase>> | undefined;
    if (h().dbUrl) {
      otherDb = await openDatabase({ databaseUrl: h().dbUrl, poolSize: 4 });
      other = await buildServer(
        loadConfig({ GPUPLANE_ADMIN_KEY: OPERATOR_KEY, GPUPLANE_WORKERS: "off", LOG_LEVEL: "silent" }),
        { database: otherDb, log: pino({ level: "silent" }), workers: false },
      );
    }
    const second = other?.ctx ?? h().ctx;
    try {
      await Promise.all([
        runSchedulerPass(h().ctx),
        runSchedulerPass(second),
        h().runWorker("scheduler"),
        other ? other.runner!.runOnce("scheduler") : runSchedulerPass(h().ctx),
      ]);
    } finally {
      await other?.close();
      await otherDb?.close();
    }
    await assertNoDoubleBooking(h());
    const placed = await queryRows<{ n: string }>(
      h().ctx.db,
      sql`select coalesce(sum(gpu_count), 0)::text as n from jobs where cluster_id = ${cluster} and status in ('scheduled', 'running')`,
    );
    expect(Number(placed[0].n)).toBeGreaterThan(40);
    expect(Number(placed[0].n)).toBeLessThanOrEqual(48);
  });

  it("jobs and instances racing for the same GPUs never share one", async () => {
    const cluster = await addCluster(h());
    for (let i = 0; i < 3; i++) await addNode(h(), cluster, 4);
    for (let i = 0; i < 12; i++) await submit(h(), { cluster_id: cluster, gpu_count: 1 });
    const instanceClaims = Array.from({ length: 6 }, (_, i) =>
      h().ctx.db.transaction((tx) =>
        allocateGpus(tx, { clusterId: cluster, count: 1, tenantId: null, instanceId: `inst_race_${i}` }),
      ),
    );
    await Promise.all([runSchedulerPass(h().ctx), ...instanceClaims, runSchedulerPass(h().ctx)]);
    await assertNoDoubleBooking(h());
    const held = await queryRows<{ jobs: string; instances: string }>(
      h().ctx.db,
      sql`select count(job_id)::text as jobs, count(instance_id)::text as instances from gpu_allocations a
          join gpus g on g.id = a.gpu_id join nodes n on n.id = g.node_id where n.cluster_id = ${cluster}`,
    );
    expect(Number(held[0].jobs) + Number(held[0].instances)).toBe(12);
    // The jobs that did not get a GPU wait, and get one once an instance lets go.
    await h().ctx.db.execute(sql`delete from gpu_allocations where instance_id like 'inst_race_%'`);
    await runSchedulerPass(h().ctx);
    await assertNoDoubleBooking(h());
  });
});
