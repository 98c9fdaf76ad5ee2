import { and, count, desc, eq, lt, sql } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import type { Executor } from "../../db/client.js";
import { ledgerEntries, tenants } from "../../db/schema/index.js";
import { queryRows } from "../../db/sql.js";
import { type Page, type PageQuery, paginate } from "../../http/pagination.js";
import { notFound } from "../../lib/errors.js";
import { toMicros } from "../../lib/money.js";

/**
 * What a ledger entry records. `invoice_payment`: an open invoice paid, crediting back the usage it billed
 * (reference `invoice:<id>:paid`; invoices.ts).
 */
export const ledgerKinds = [
  "signup_credit",
  "topup",
  "grant",
  "usage",
  "refund",
  "adjustment",
  "invoice_payment",
] as const;
export type LedgerKind = (typeof ledgerKinds)[number];

export interface LedgerInput {
  tenantId: number;
  kind: LedgerKind;
  /** Signed micro-dollars: credits positive, charges negative. */
  amountMicros: bigint;
  description: string;
  /** Unique reference: a second entry with the same reference is not written (returns null). */
  reference?: string;
  instanceId?: string;
  jobId?: number;
  volumeId?: string;
  periodStart?: Date;
  periodEnd?: Date;
  quantitySeconds?: number;
  /** For a usage charge, the invoice that bills it (set by generateInvoices); for a payment, the invoice it pays. */
  invoiceId?: number;
  at?: Date;
}

/**
 * Appends one ledger entry with its balance after. Must run inside a transaction: the tenant row is locked so that
 * concurrent entries for one tenant serialise and every balance_after is exact.
 */
export async function appendLedgerEntry(tx: Executor, input: LedgerInput) {
  // The lock is also the tenant check (ledger_entries.tenant_id has no foreign key: see the schema).
  const locked = await queryRows(tx, sql`select id from ${tenants} where ${tenants.id} = ${input.tenantId} for update`);
  if (!locked.length) throw notFound("tenant");
  const balance = await currentBalance(tx, input.tenantId);
  const rows = await tx
    .insert(ledgerEntries)
    .values({
      tenantId: input.tenantId,
      kind: input.kind,
      amountMicros: input.amountMicros,
      balanceAfterMicros: balance + input.amountMicros,
      description: input.description,
      reference: input.reference ?? null,
      instanceId: input.instanceId ?? null,
      jobId: input.jobId ?? null,
      volumeId: input.volumeId ?? null,
      periodStart: input.periodStart ?? null,
      periodEnd: input.periodEnd ?? null,
      quantitySeconds: input.quantitySeconds ?? null,
      invoiceId: input.invoiceId ?? null,
      ...(input.at ? { createdAt: input.at } : {}),
    })
    .onConflictDoNothing({ target: ledgerEntries.reference })
    .returning();
  return rows[0] ?? null;
}

/** The balance is the newest entry's balance_after (0 for a tenant with no entries). */
export async function currentBalance(tx: Executor, tenantId: number): Promise<bigint> {
  const [last] = await tx
    .select({ balance: ledgerEntries.balanceAfterMicros })
    .from(ledgerEntries)
    .where(eq(ledgerEntries.tenantId, tenantId))
    .orderBy(desc(ledgerEntries.id))
    .limit(1);
  return last ? toMicros(last.balance) : 0n;
}

export type LedgerRow = typeof ledgerEntries.$inferSelect;

/** A tenant's ledger, newest first, keyset-paginated by id. */
export async function listTransactions(
  ctx: AppContext,
  tenantId: number,
  query: PageQuery & { kind?: LedgerKind },
): Promise<Page<LedgerRow>> {
  const where = (after?: number) =>
    and(
      eq(ledgerEntries.tenantId, tenantId),
      query.kind ? eq(ledgerEntries.kind, query.kind) : undefined,
      after !== undefined ? lt(ledgerEntries.id, BigInt(after)) : undefined,
    );
  const page = await paginate(
    query,
    async (after, take) => {
      const rows = await ctx.db
        .select()
        .from(ledgerEntries)
        .where(where(after === undefined ? undefined : Number(after)))
        .orderBy(desc(ledgerEntries.id))
        .limit(take);
      return rows.map((row) => ({ ...row, id: Number(row.id), row }));
    },
    async () => {
      const [{ n }] = await ctx.db.select({ n: count() }).from(ledgerEntries).where(where());
      return Number(n);
    },
    "int8",
  );
  return { ...page, items: page.items.map((item) => item.row) };
}
