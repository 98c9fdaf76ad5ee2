import { sql } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import { queryRows } from "../../db/sql.js";
import { type AlertRuleInput, createRule } from "./rules.js";

/** The built-in rules a fresh install starts with; operators tune or delete them like any other. */
export const defaultRules: AlertRuleInput[] = [
  { name: "GPU allocated but idle", type: "utilization_low", threshold: 10, windowSeconds: 1800 },
  { name: "Tenant at GPU quota", type: "quota_breach", threshold: 100, windowSeconds: 300 },
  { name: "Node or GPU health degraded", type: "health_degraded", threshold: 85, windowSeconds: 180 },
  { name: "Resold instance sold at a loss", type: "margin_negative", threshold: 0, windowSeconds: 86_400 },
];

/**
 * Seeds the default rules once, on an install that has never had a rule: an operator who deleted them all has moved
 * the id sequence, so they do not come back on restart. The table lock makes replicas starting together seed once.
 */
export async function seedDefaultAlertRules(ctx: AppContext): Promise<number> {
  return ctx.db.transaction(async (tx) => {
    await tx.execute(sql`lock table alert_rules in exclusive mode`);
    const [row] = await queryRows<{ n: number; used: boolean }>(
      tx,
      sql`select count(*)::int as n, (select is_called from alert_rules_id_seq) as used from alert_rules`,
    );
    if (Number(row.n) > 0 || row.used) return 0;
    for (const rule of defaultRules) await createRule(ctx, rule, tx);
    return defaultRules.length;
  });
}
