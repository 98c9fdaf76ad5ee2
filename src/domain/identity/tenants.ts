import { count, desc, eq, lt } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import type { Executor } from "../../db/client.js";
import { tenants } from "../../db/schema/index.js";
import type { PageQuery } from "../../http/pagination.js";
import { paginate } from "../../http/pagination.js";
import { ApiError, notFound } from "../../lib/errors.js";
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

/** A tenant the operator creates (seed 002's fleet customers): invoiced unless billingMode says otherwise. */
export async function createTenant(
  ctx: AppContext,
  tx: Executor,
  input: TenantInput & { email?: string; passwordHash?: string },
) {
  const now = ctx.clock.now();
  const [row] = await tx
    .insert(tenants)
    .values({
      name: input.name,
      gpuQuota: input.gpuQuota,
      contactEmail: input.contactEmail ?? input.email ?? null,
      planTier: input.planTier ?? "starter",
      status: input.status ?? "active",
      billingMode: input.billingMode ?? "invoiced",
      email: input.email ?? null,
      passwordHash: input.passwordHash ?? null,
      createdAt: now,
      updatedAt: now,
    })
    .returning();
  return row;
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

export async function updateTenant(ctx: AppContext, id: number, patch: Partial<TenantInput>): Promise<TenantRow> {
  if (Object.keys(patch).length === 0) throw new ApiError("BAD_REQUEST", "the request body names no field to change");
  const [row] = await ctx.db
    .update(tenants)
    .set({ ...patch, updatedAt: ctx.clock.now() })
    .where(eq(tenants.id, id))
    .returning();
  if (!row) throw notFound("tenant");
  // A deactivated tenant's keys must stop working now, not when the cache expires.
  if (patch.status) forgetVerifiedKeys(ctx);
  return row;
}
