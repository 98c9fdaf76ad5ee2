import type { SQL } from "drizzle-orm";
import type { Executor } from "./client.js";

/** Runs raw SQL and returns its rows, the same on PGlite and node-postgres. */
export async function queryRows<T = Record<string, unknown>>(executor: Executor, query: SQL): Promise<T[]> {
  const result: any = await executor.execute(query);
  return (result.rows ?? result) as T[];
}
