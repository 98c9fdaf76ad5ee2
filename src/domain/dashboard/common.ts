import { sql } from "drizzle-orm";
import type { BillingMode } from "../identity/tenants.js";

/** The current balance of every tenant: the newest ledger entry's balance_after (the ledger's own rule). */
export const balancesSql = sql`select distinct on (tenant_id) tenant_id, balance_after_micros as balance
  from ledger_entries order by tenant_id, id desc`;

/**
 * The balances below zero of the tenants with one billing mode, and what each owes (a positive amount). For a
 * prepaid tenant that is service delivered beyond its credits (leakage); for an invoiced one, receivables.
 */
export const negativeBalancesSql = (mode: BillingMode) => sql`select b.tenant_id, -b.balance as owed
  from (${balancesSql}) b join tenants t on t.id = b.tenant_id
  where b.balance < 0 and t.billing_mode = ${mode}`;

/** GPU model of a usage charge: the instance's model, else the job's requested GPU type. */
export const chargeModelSql = sql`coalesce(i.gpu_model, j.gpu_type, 'unknown')`;

export const windowStart = (now: Date, days: number) => new Date(now.getTime() - days * 86_400_000);
