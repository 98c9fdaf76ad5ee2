import type { SQL } from "drizzle-orm";
import type { Executor } from "./client.js";

/** Runs raw SQL and returns its rows, the same on PGlite and node-postgres. */
export async function queryRows<T = Record<string, unknown>>(executor: Executor, query: SQL): Promise<T[]> {
  const result: any = await executor.execute(query);
  return (result.rows ?? result) as T[];
}

/**
 * Arrays travel as one text parameter (`{1,2,NULL}`), cast in the SQL (`${intArray(ids)}::int[]`): the same on
 * node-postgres and PGlite, and one parameter however many values (a parameter each would hit the protocol's limit).
 */
export function intArray(values: Iterable<number | bigint | null>): string {
  return `{${Array.from(values, (v) => (v === null ? "NULL" : String(v))).join(",")}}`;
}

export function textArray(values: Iterable<string | null>): string {
  return `{${Array.from(values, (v) => (v === null ? "NULL" : `"${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`)).join(",")}}`;
}
