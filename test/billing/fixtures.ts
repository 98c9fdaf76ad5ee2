import { randomBytes } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { instances, ledgerEntries, volumes } from "../../src/db/schema/index.js";
import { newId } from "../../src/lib/ids.js";
import { toMicros } from "../../src/lib/money.js";
import type { Harness } from "../helpers/harness.js";

export interface InstanceSpec {
  tenantId: number;
  pricePerHourMicros: bigint;
  granularitySeconds?: number;
  minimumChargeMicros?: bigint;
  gpuCount?: number;
}

/**
 * Instance rows written directly, following the instances contract: running has running_since; leaving running
 * sets stopped_at and leaves running_since for the meter; starting again (after the meter closed the run) sets a
 * new running_since.
 */
export async function insertRunningInstance(h: Harness, spec: InstanceSpec, at = h.ctx.clock.now()) {
  const id = newId("inst");
  await h.ctx.db.insert(instances).values({
    id,
    tenantId: spec.tenantId,
    name: id,
    instanceTypeId: "test-type",
    requestedType: "test-type",
    imageId: "ubuntu",
    regionId: "test-1",
    gpuCount: spec.gpuCount ?? 1,
    gpuModel: "H100",
    pricePerHourMicros: spec.pricePerHourMicros,
    billingGranularitySeconds: spec.granularitySeconds ?? 1,
    minimumChargeMicros: spec.minimumChargeMicros ?? 0n,
    provider: "simulator",
    status: "running",
    sshKeyIds: [],
    sshPublicKeys: [],
    createdAt: at,
    updatedAt: at,
    runningSince: at,
  });
  return id;
}

export async function stopInstanceRow(h: Harness, id: string, at = h.ctx.clock.now()) {
  await h.ctx.db.update(instances).set({ status: "stopped", stoppedAt: at, updatedAt: at }).where(eq(instances.id, id));
}

/**
 * Starting again, as instances' transition() does: under the row lock, a run the meter has not closed yet is closed
 * (billing's subscriber to instance.run-reopening) before the new run begins.
 */
export async function startInstanceRow(h: Harness, id: string, at = h.ctx.clock.now()) {
  await h.ctx.db.transaction(async (tx) => {
    const [row] = await tx.select().from(instances).where(eq(instances.id, id)).for("update");
    if (row.runningSince !== null) await h.ctx.bus.emit("instance.run-reopening", { tx, instanceId: id });
    await tx
      .update(instances)
      .set({ status: "running", runningSince: at, stoppedAt: null, updatedAt: at })
      .where(eq(instances.id, id));
  });
}

export async function insertVolume(h: Harness, tenantId: number, sizeGb: number, pricePerGbMonthMicros: bigint) {
  const id = newId("vol");
  const at = h.ctx.clock.now();
  await h.ctx.db.insert(volumes).values({
    id,
    tenantId,
    name: id,
    sizeGb,
    type: "nvme",
    regionId: "test-1",
    status: "available",
    pricePerGbMonthMicros,
    createdAt: at,
  });
  return id;
}

/** Sum of usage charges (positive micros) for one instance, job or volume. */
export async function chargedFor(h: Harness, column: "instance_id" | "volume_id" | "job_id", id: string | number) {
  const rows: any = await h.ctx.db.execute(
    sql`select coalesce(sum(-amount_micros), 0) as total from ledger_entries where kind = 'usage' and ${sql.identifier(column)} = ${id}`,
  );
  return toMicros((rows.rows ?? rows)[0].total);
}

/** Checks the ledger's own arithmetic: each entry's balance_after is the previous one's plus its amount. */
export async function ledgerChainErrors(h: Harness, tenantId: number) {
  const rows = await h.ctx.db
    .select()
    .from(ledgerEntries)
    .where(eq(ledgerEntries.tenantId, tenantId))
    .orderBy(ledgerEntries.id);
  const errors: string[] = [];
  let balance = 0n;
  for (const row of rows) {
    balance += toMicros(row.amountMicros);
    if (toMicros(row.balanceAfterMicros) !== balance) {
      errors.push(`entry ${row.id}: balance_after ${row.balanceAfterMicros} but the sum is ${balance}`);
    }
  }
  return { errors, sum: balance };
}

/**
 * A tenant the operator creates (POST /tenants: invoiced unless `body` says billing_mode "prepaid", seed 002's fleet
 * customers) and an API key of its own, as the operator would hand one out.
 */
export async function operatorTenant(h: Harness, body: Record<string, unknown> = {}) {
  const name = `acct-${randomBytes(4).toString("hex")}`;
  const created = await h.post("/api/v1/tenants", { name, gpu_quota: 8, ...body });
  if (created.status !== 201) throw new Error(`tenant: ${created.status} ${created.text}`);
  const tenantId = created.body.data.id as number;
  const key = await h.post("/api/v1/api-keys", { label: name, tenant_id: tenantId });
  if (key.status !== 201) throw new Error(`key: ${key.status} ${key.text}`);
  return { tenantId, key: key.body.data.key as string, tenant: created.body.data };
}
