import { sql } from "drizzle-orm";
import { bigserial, index, integer, pgTable, serial, text, uniqueIndex } from "drizzle-orm/pg-core";
import { createdAt, micros, tstz } from "./columns.js";
import { tenants } from "./identity.js";

/**
 * Append-only ledger. The balance is never stored elsewhere: it is the newest entry's balance_after.
 * `reference` makes a repeat harmless: a usage charge for one closed interval has one reference, so a second
 * worker (or a restart) that computes the same charge conflicts instead of charging twice. Its unique index
 * compares bytes (COLLATE "C"): equality is the same as under the database's collation, and the meter's 100k
 * inserts a pass skip the locale comparison.
 *
 * tenant_id has no foreign key: the metering pass writes one entry per running instance, and the per-row key check
 * cost about a quarter of its insert. Every writer locks the tenant row first (appendLedgerEntry throws when there
 * is none; the meter takes tenant ids from instances, jobs and volumes, which have the key), and tenants are never
 * deleted (status only).
 */
export const ledgerEntries = pgTable(
  "ledger_entries",
  {
    id: bigserial("id", { mode: "bigint" }).primaryKey(),
    tenantId: integer("tenant_id").notNull(),
    kind: text("kind").notNull(), // signup_credit | topup | grant | usage | refund | adjustment | invoice_payment
    amountMicros: micros("amount_micros").notNull(), // signed: credits positive, charges negative
    balanceAfterMicros: micros("balance_after_micros").notNull(),
    description: text("description").notNull(),
    reference: text("reference"),
    instanceId: text("instance_id"),
    jobId: integer("job_id"),
    volumeId: text("volume_id"),
    periodStart: tstz("period_start"),
    periodEnd: tstz("period_end"),
    quantitySeconds: integer("quantity_seconds"),
    invoiceId: integer("invoice_id"),
    /**
     * For a usage charge of a resold instance: what the cloud charges the operator for the same seconds (its billing
     * rule and the upstream price the instance was launched at), beside the revenue. Null elsewhere.
     */
    upstreamCostMicros: micros("upstream_cost_micros"),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("ledger_reference_key").on(sql`${t.reference} collate "C"`),
    index("ledger_tenant_idx").on(t.tenantId, sql`${t.id} desc`),
    index("ledger_uninvoiced_idx").on(t.tenantId, t.createdAt).where(sql`invoice_id is null and kind = 'usage'`),
  ],
);

export const invoices = pgTable(
  "invoices",
  {
    id: serial("id").primaryKey(),
    tenantId: integer("tenant_id")
      .notNull()
      .references(() => tenants.id),
    periodStart: tstz("period_start").notNull(),
    periodEnd: tstz("period_end").notNull(),
    status: text("status").notNull().default("draft"), // draft | open | paid | void
    currency: text("currency").notNull().default("usd"),
    totalMicros: micros("total_micros").notNull(),
    stripeInvoiceId: text("stripe_invoice_id"),
    stripeStatus: text("stripe_status"),
    hostedInvoiceUrl: text("hosted_invoice_url"),
    createdAt: createdAt(),
    finalizedAt: tstz("finalized_at"),
    paidAt: tstz("paid_at"),
    voidedAt: tstz("voided_at"),
  },
  (t) => [
    index("invoices_tenant_idx").on(t.tenantId, t.id),
    uniqueIndex("invoices_tenant_period").on(t.tenantId, t.periodStart, t.periodEnd).where(sql`status <> 'void'`),
  ],
);

export const invoiceLines = pgTable(
  "invoice_lines",
  {
    id: serial("id").primaryKey(),
    invoiceId: integer("invoice_id")
      .notNull()
      .references(() => invoices.id, { onDelete: "cascade" }),
    description: text("description").notNull(),
    quantitySeconds: integer("quantity_seconds"),
    amountMicros: micros("amount_micros").notNull(),
    instanceId: text("instance_id"),
    jobId: integer("job_id"),
    stripeInvoiceItemId: text("stripe_invoice_item_id"),
  },
  (t) => [index("invoice_lines_invoice_idx").on(t.invoiceId)],
);

/** Stripe top-ups: a checkout session or payment intent, credited once on its signed webhook. */
export const topups = pgTable(
  "topups",
  {
    id: text("id").primaryKey(),
    tenantId: integer("tenant_id")
      .notNull()
      .references(() => tenants.id),
    amountMicros: micros("amount_micros").notNull(),
    status: text("status").notNull().default("pending"), // pending | succeeded | failed
    stripeSessionId: text("stripe_session_id"),
    stripePaymentIntentId: text("stripe_payment_intent_id"),
    checkoutUrl: text("checkout_url"),
    createdAt: createdAt(),
    completedAt: tstz("completed_at"),
  },
  (t) => [uniqueIndex("topups_stripe_session").on(t.stripeSessionId)],
);

/** Which low-balance thresholds a tenant has already been warned about since its last top-up. */
export const balanceWarnings = pgTable(
  "balance_warnings",
  {
    tenantId: integer("tenant_id").notNull(),
    thresholdMicros: micros("threshold_micros").notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("balance_warnings_key").on(t.tenantId, t.thresholdMicros)],
);
