import { sql } from "drizzle-orm";

/** The current balance of every tenant: the newest ledger entry's balance_after (the ledger's own rule). */
export const balancesSql = sql`select distinct on (tenant_id) tenant_id, balance_after_micros as balance
  from ledger_entries order by tenant_id, id desc`;

/** GPU model of a usage charge: the instance's model, else the job's requested GPU type. */
export const chargeModelSql = sql`coalesce(i.gpu_model, j.gpu_type, 'unknown')`;

export const windowStart = (now: Date, days: number) => new Date(now.getTime() - days * 86_400_000);
