import { count, desc, eq, lt } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import type { Executor } from "../../db/client.js";
import { tenants } from "../../db/schema/index.js";
import type { PageQuery } from "../../http/pagination.js";
import { paginate } from "../../http/pagination.js";
import { ApiError, notFound } from "../../lib/errors.js";
import { type Actor, audit, changes } from "../audit/audit.js";
import { forgetVerifiedKeys } from "./keys.js";

export const planTiers = ["starter", "pro", "growth", "enterprise"] as const;
export const tenantStatuses = ["active", "inactive"] as const;
/**
 * How a tenant pays. prepaid: from credits, so it is gated (minimum balance to deploy, no new job GPUs at or below
 * zero, low-balance warnings, auto-stop at zero). invoiced: on account: usage is charged to the ledger all the same
 * (a negative balance is what it owes) and collected by invoice, whose payment credits the ledger back.
 */
export const billingModes = ["prepaid", "invoiced"] as const;
export type BillingMode = (typeof billingModes)[number];

export type TenantRow = typeof tenants.$inferSelect;

export interface TenantInput {
  name: string;
  gpuQuota: number;
  contactEmail?: string | null;
  planTier?: (typeof planTiers)[number];
  status?: (typeof tenantStatuses)[number];
  billingMode?: BillingMode;
}

/** A tenant's fields for the audit trail (never its password hash). */
export const tenantSnapshot = (t: TenantRow) => ({
  name: t.name,
  email: t.email,
  contact_email: t.contactEmail,
  gpu_quota: t.gpuQuota,
  plan_tier: t.planTier,
  status: t.status,
  billing_mode: t.billingMode,
});

/** A tenant the operator creates (seed 002's fleet customers): invoiced unless billingMode says otherwise. */
export async function createTenant(ctx: AppContext, actor: Actor, input: TenantInput) {
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(tenants)
      .values({
        name: input.name,
        gpuQuota: input.gpuQuota,
        contactEmail: input.contactEmail ?? null,
        planTier: input.planTier ?? "starter",
        status: input.status ?? "active",
        billingMode: input.billingMode ?? "invoiced",
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    await audit(tx, actor, {
      action: "tenant.create",
      target: `tenant:${row.id}`,
      tenantId: row.id,
      after: tenantSnapshot(row),
    });
    return row;
  });
}

export async function getTenant(ctx: AppContext, id: number, executor: Executor = ctx.db): Promise<TenantRow> {
  const [row] = await executor.select().from(tenants).where(eq(tenants.id, id));
  if (!row) throw notFound("tenant");
  return row;
}

export async function listTenants(ctx: AppContext, query: PageQuery) {
  return paginate(
    query,
    (after, take) =>
      ctx.db
        .select()
        .from(tenants)
        .where(after !== undefined ? lt(tenants.id, Number(after)) : undefined)
        .orderBy(desc(tenants.id))
        .limit(take),
    async () => (await ctx.db.select({ n: count() }).from(tenants))[0].n,
    "int",
  );
}

/**
 * Updates a tenant (quota, plan, status, billing mode), recorded as `tenant.suspend` / `tenant.activate` when its
 * status changes, else `tenant.update`, with the fields that changed.
 */
export async function updateTenant(
  ctx: AppContext,
  actor: Actor,
  id: number,
  patch: Partial<TenantInput>,
): Promise<TenantRow> {
  if (Object.keys(patch).length === 0) throw new ApiError("BAD_REQUEST", "the request body names no field to change");
  const row = await ctx.db.transaction(async (tx) => {
    const [before] = await tx.select().from(tenants).where(eq(tenants.id, id)).for("update");
    if (!before) throw notFound("tenant");
    const [after] = await tx
      .update(tenants)
      .set({ ...patch, updatedAt: ctx.clock.now() })
      .where(eq(tenants.id, id))
      .returning();
    const status = after.status !== before.status ? (after.status === "active" ? "activate" : "suspend") : "update";
    await audit(tx, actor, {
      action: `tenant.${status}`,
      target: `tenant:${id}`,
      tenantId: id,
      ...changes(tenantSnapshot(before), tenantSnapshot(after)),
    });
    return after;
  });
  // A deactivated tenant's keys must stop working now, not when the cache expires.
  if (patch.status) forgetVerifiedKeys(ctx);
  return row;
}
