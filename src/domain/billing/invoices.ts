import { and, count, desc, eq, lt, sql } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import type { Executor } from "../../db/client.js";
import { invoiceLines, invoices, tenants } from "../../db/schema/index.js";
import { queryRows } from "../../db/sql.js";
import { type Page, type PageQuery, paginate } from "../../http/pagination.js";
import { badRequest, conflict, notFound } from "../../lib/errors.js";
import { microsToUsd, toMicros } from "../../lib/money.js";
import { EARLIEST, LATEST } from "../../lib/schemas.js";
import { emitEvent } from "../events/emit.js";
import { billingModeOf } from "./balance.js";
import { creditTenant } from "./credits.js";
import { pushInvoiceToStripe } from "./stripe-invoices.js";

export type InvoiceRow = typeof invoices.$inferSelect;
export type InvoiceLineRow = typeof invoiceLines.$inferSelect;
export const invoiceStatuses = ["draft", "open", "paid", "void"] as const;
export type InvoiceStatus = (typeof invoiceStatuses)[number];

const MAX_PERIOD_MS = 5 * 366 * 86_400_000;

/** draft → open (finalised; pushed to Stripe when configured) → paid; draft or open → void. */
const allowed: Record<InvoiceStatus, InvoiceStatus[]> = {
  draft: ["open", "void"],
  open: ["paid", "void"],
  paid: [],
  void: [],
};

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Seed 002's billing period: the last `days` days up to now. The end is the next whole second after `now`, so a
 * charge made this instant is in (periods are [start, end)). Usage already invoiced is never invoiced again, so
 * overlapping periods (today's 30 days, tomorrow's 30 days) bill each charge once.
 */
export function lastDays(now: Date, days: number): { periodStart: Date; periodEnd: Date } {
  if (!Number.isInteger(days) || days < 1 || days > 90) throw badRequest("days must be between 1 and 90");
  const end = Math.floor(now.getTime() / 1000) * 1000 + 1000;
  return { periodStart: new Date(end - days * DAY_MS), periodEnd: new Date(end) };
}

/**
 * Generates a draft invoice per tenant for [periodStart, periodEnd): one line per instance, job or volume from the
 * usage ledger entries not yet invoiced (charged in the period), which are then marked with the invoice id so a
 * usage entry is invoiced once. A tenant with no such usage gets no invoice; one already invoiced for the same
 * period is a 409.
 */
export async function generateInvoices(
  ctx: AppContext,
  input: { tenantId?: number; periodStart: Date; periodEnd: Date },
): Promise<InvoiceRow[]> {
  if (input.periodEnd <= input.periodStart) throw badRequest("period_end must be after period_start");
  // A period far outside the data's lifetime stored a row every later read of the invoice list choked on.
  if (input.periodEnd.getTime() - input.periodStart.getTime() > MAX_PERIOD_MS) {
    throw badRequest("an invoice period may be at most 5 years long");
  }
  if (input.periodStart < EARLIEST || input.periodEnd > LATEST) {
    throw badRequest(`the invoice period must lie between ${EARLIEST.toISOString()} and ${LATEST.toISOString()}`);
  }
  const now = ctx.clock.now();
  await checkLifetime(ctx, input, now);
  const window = sql`kind = 'usage' and invoice_id is null
    and created_at >= ${input.periodStart.toISOString()}::timestamptz
    and created_at < ${input.periodEnd.toISOString()}::timestamptz
    ${input.tenantId !== undefined ? sql`and tenant_id = ${input.tenantId}` : sql``}`;
  const created = await ctx.db.transaction(async (tx) => {
    const lines = await queryRows<any>(
      tx,
      sql`select tenant_id, instance_id, job_id, volume_id, sum(-amount_micros) as amount,
                 sum(quantity_seconds) as seconds
            from ledger_entries where ${window}
           group by tenant_id, instance_id, job_id, volume_id
           order by tenant_id, instance_id nulls last, job_id nulls last, volume_id nulls last`,
    );
    const byTenant = new Map<number, any[]>();
    for (const line of lines) {
      const id = Number(line.tenant_id);
      byTenant.set(id, [...(byTenant.get(id) ?? []), line]);
    }
    const made: InvoiceRow[] = [];
    for (const [tenantId, tenantLines] of byTenant) {
      const total = tenantLines.reduce((sum, l) => sum + toMicros(l.amount), 0n);
      const [invoice] = await tx
        .insert(invoices)
        .values({
          tenantId,
          periodStart: input.periodStart,
          periodEnd: input.periodEnd,
          status: "draft",
          totalMicros: total,
          createdAt: now,
        })
        .onConflictDoNothing()
        .returning();
      if (!invoice) {
        if (input.tenantId !== undefined) throw conflict("this tenant already has an invoice for this period");
        continue;
      }
      await tx.insert(invoiceLines).values(
        tenantLines.map((l) => ({
          invoiceId: invoice.id,
          description: describeLine(l),
          quantitySeconds: l.seconds === null ? null : Number(l.seconds),
          amountMicros: toMicros(l.amount),
          instanceId: l.instance_id ?? null,
          jobId: l.job_id === null ? null : Number(l.job_id),
        })),
      );
      await tx.execute(
        sql`update ledger_entries set invoice_id = ${invoice.id} where ${window} and tenant_id = ${tenantId}`,
      );
      await emitEvent(
        tx,
        tenantId,
        "billing.invoice_created",
        { invoice_id: invoice.id, total_usd: microsToUsd(total), status: "draft" },
        now,
      );
      made.push(invoice);
    }
    return made;
  });
  return created;
}

/**
 * A period must overlap the data's lifetime: it may not start in the future, nor end before the tenant was created
 * (for every tenant: before the deployment's first ledger entry). Such a period can only be a typo (a year 2062 for
 * 2026), and its empty invoice would sit in the list for good.
 */
async function checkLifetime(
  ctx: AppContext,
  input: { tenantId?: number; periodStart: Date; periodEnd: Date },
  now: Date,
) {
  if (input.periodStart > now) {
    throw badRequest(`period_start (${input.periodStart.toISOString()}) is in the future`);
  }
  let since: Date | null;
  let what: string;
  if (input.tenantId !== undefined) {
    const [tenant] = await ctx.db
      .select({ createdAt: tenants.createdAt })
      .from(tenants)
      .where(eq(tenants.id, input.tenantId));
    if (!tenant) throw notFound("tenant");
    since = tenant.createdAt;
    what = `tenant ${input.tenantId} was created`;
  } else {
    // The oldest id is the first entry (ids follow insertion): one primary-key probe, not a scan of the ledger.
    const [first] = await queryRows<{ at: unknown }>(
      ctx.db,
      sql`select created_at as at from ledger_entries order by id limit 1`,
    );
    since = first?.at ? new Date(first.at as string | Date) : null; // no ledger yet: nothing to invoice either way
    what = "the first ledger entry";
  }
  if (since && input.periodEnd <= since) {
    throw badRequest(`period_end (${input.periodEnd.toISOString()}) is before ${what} (${since.toISOString()})`);
  }
}

function describeLine(l: any): string {
  const hours = (Number(l.seconds ?? 0) / 3600).toFixed(4);
  if (l.instance_id) return `GPU instance ${l.instance_id} (${hours} h)`;
  if (l.job_id) return `Job ${l.job_id} (${hours} h)`;
  return `Volume ${l.volume_id} storage (${hours} h)`;
}

export async function getInvoice(ctx: AppContext, id: number, tenantId: number | null) {
  const [invoice] = await ctx.db.select().from(invoices).where(eq(invoices.id, id));
  if (!invoice || (tenantId !== null && invoice.tenantId !== tenantId)) throw notFound("invoice");
  const lines = await ctx.db.select().from(invoiceLines).where(eq(invoiceLines.invoiceId, id)).orderBy(invoiceLines.id);
  return { invoice, lines };
}

export async function listInvoices(
  ctx: AppContext,
  tenantId: number | null,
  query: PageQuery & { status?: InvoiceStatus },
): Promise<Page<InvoiceRow>> {
  const where = (after?: number) =>
    and(
      tenantId !== null ? eq(invoices.tenantId, tenantId) : undefined,
      query.status ? eq(invoices.status, query.status) : undefined,
      after !== undefined ? lt(invoices.id, after) : undefined,
    );
  return paginate(
    query,
    (after, take) =>
      ctx.db
        .select()
        .from(invoices)
        .where(where(after === undefined ? undefined : Number(after)))
        .orderBy(desc(invoices.id))
        .limit(take),
    async () => Number((await ctx.db.select({ n: count() }).from(invoices).where(where()))[0].n),
  );
}

/**
 * Moves an invoice along draft → open → paid, or to void. Opening pushes it to Stripe when configured (customer,
 * items, invoice, finalize) and keeps Stripe's id, status and hosted URL. Voiding releases its usage entries.
 *
 * A prepaid tenant's invoice is a statement of usage its credits already paid, so opening it settles it: `paid` at
 * once, and in Stripe paid out of band (nothing to collect). An invoiced tenant's stays open until it is paid.
 */
export async function setInvoiceStatus(ctx: AppContext, id: number, to: InvoiceStatus): Promise<InvoiceRow> {
  const { invoice } = await getInvoice(ctx, id, null);
  const from = invoice.status as InvoiceStatus;
  if (from === to) return invoice;
  if (!allowed[from].includes(to)) {
    throw conflict(`invoice ${id} is ${from}; it can move to ${allowed[from].join(" or ") || "nothing else"}`, {
      status: from,
    });
  }
  const now = ctx.clock.now();
  const statement = to === "open" && (await billingModeOf(ctx.db, invoice.tenantId)) === "prepaid";
  const stripeFields = to === "open" ? await pushInvoiceToStripe(ctx, id, { paidOutOfBand: statement }) : {};
  const status: InvoiceStatus = statement ? "paid" : to;
  return ctx.db.transaction(async (tx) => {
    const [updated] = await tx
      .update(invoices)
      .set({
        status,
        ...stripeFields,
        ...(to === "open" ? { finalizedAt: now } : {}),
        ...(status === "paid" ? { paidAt: now } : {}),
        ...(to === "void" ? { voidedAt: now } : {}),
      })
      .where(and(eq(invoices.id, id), eq(invoices.status, from)))
      .returning();
    if (!updated) throw conflict(`invoice ${id} changed meanwhile; retry`);
    if (to === "void") await tx.execute(sql`update ledger_entries set invoice_id = null where invoice_id = ${id}`);
    if (status === "paid") await recordInvoicePaid(ctx, tx, updated, statement ? "prepaid_credits" : "operator");
    return updated;
  });
}

/**
 * What follows an invoice becoming paid (the caller has just moved it, in `tx`): `billing.invoice_paid`, and unless
 * it was a prepaid tenant's statement (paid from credits), one `invoice_payment` credit of its total: the money
 * received for an invoice that was open brings the balance its usage took below zero back up. The reference
 * `invoice:<id>:paid` makes a second credit for the same invoice impossible (a replayed webhook, a race with PATCH).
 */
export async function recordInvoicePaid(
  ctx: AppContext,
  tx: Executor,
  invoice: InvoiceRow,
  via: "operator" | "stripe" | "prepaid_credits",
) {
  const total = toMicros(invoice.totalMicros);
  if (via !== "prepaid_credits" && total > 0n) {
    await creditTenant(ctx, tx, {
      tenantId: invoice.tenantId,
      kind: "invoice_payment",
      amountMicros: total,
      description: `Invoice ${invoice.id} paid`,
      reference: `invoice:${invoice.id}:paid`,
      invoiceId: invoice.id,
    });
  }
  await emitEvent(
    tx,
    invoice.tenantId,
    "billing.invoice_paid",
    { invoice_id: invoice.id, total_usd: microsToUsd(total), via },
    ctx.clock.now(),
  );
}
