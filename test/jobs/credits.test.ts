import { eq } from "drizzle-orm";
import { expect, it } from "vitest";
import { events } from "../../src/db/schema/index.js";
import { appendLedgerEntry, currentBalance } from "../../src/domain/billing/ledger.js";
import { describeEachDb, type Harness } from "../helpers/harness.js";
import { addCluster, addNode, job, pass, submit, tenantWithQuota } from "./fleet-fixture.js";

/** Moves a tenant's balance to exactly `micros` with one adjustment entry, as billing would. */
async function setBalance(h: Harness, tenantId: number, micros: bigint) {
  await h.ctx.db.transaction(async (tx) => {
    const balance = await currentBalance(tx, tenantId);
    await appendLedgerEntry(tx, { tenantId, kind: "adjustment", amountMicros: micros - balance, description: "test" });
  });
}

describeEachDb("job scheduler: credits", (h) => {
  it("gives no GPUs to the jobs of a tenant at or below zero; they run once credits are added", async () => {
    const cluster = await addCluster(h());
    await addNode(h(), cluster, 8);
    const broke = await tenantWithQuota(h(), 8);
    const negative = await tenantWithQuota(h(), 8);
    const funded = await tenantWithQuota(h(), 8);
    await setBalance(h(), broke.tenantId, 0n);
    await setBalance(h(), negative.tenantId, -1_500_000n);
    const waits = await submit(h(), { cluster_id: cluster, priority: 1 }, broke.key);
    const waitsToo = await submit(h(), { cluster_id: cluster, priority: 1 }, negative.key);
    const runs = await submit(h(), { cluster_id: cluster, priority: 9 }, funded.key);
    const operatorJob = await submit(h(), { cluster_id: cluster, priority: 9 }); // no tenant: not billed

    const r = await pass(h());
    expect(r).toMatchObject({ scheduled: 2, blocked: 2 });
    const blocked = await job(h(), waits.id);
    expect(blocked.status).toBe("blocked");
    expect(blocked.block_reason).toBe(
      `credits: tenant ${broke.tenantId} balance is $0.000000; add credits to run jobs`,
    );
    expect((await job(h(), waitsToo.id)).block_reason).toMatch(/^credits: tenant \d+ balance is \$-1\.5/);
    expect((await job(h(), runs.id)).status).toBe("running");
    expect((await job(h(), operatorJob.id)).status).toBe("running");
    const blockedEvents = await h().ctx.db.select().from(events).where(eq(events.type, "job.blocked"));
    expect(blockedEvents.map((e) => (e.data as any).job_id).sort()).toEqual([waits.id, waitsToo.id].sort());

    // A "credits:" block is the scheduler's own: the next pass looks again, and a top-up lets the job run.
    await pass(h());
    expect((await job(h(), waits.id)).status).toBe("blocked");
    await setBalance(h(), broke.tenantId, 10_000_000n);
    await pass(h());
    const now = await job(h(), waits.id);
    expect(now.status).toBe("running");
    expect(now.block_reason).toBeNull();
    expect((await job(h(), waitsToo.id)).status).toBe("blocked");
  });
});
