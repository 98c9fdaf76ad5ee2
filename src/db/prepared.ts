import type { Db } from "./client.js";

/**
 * Statements built once per database and reused: drizzle builds a query's SQL anew on every call (a measurable share
 * of a hot read's CPU), and a named statement also spares PostgreSQL the parse and plan. Use it for the few reads
 * every request path makes; values go in through `sql.placeholder`.
 */
const built = new WeakMap<Db, Map<string, unknown>>();

export function prepared<T>(db: Db, name: string, build: (db: Db, name: string) => T): T {
  let statements = built.get(db);
  if (!statements) {
    statements = new Map();
    built.set(db, statements);
  }
  let statement = statements.get(name) as T | undefined;
  if (statement === undefined) {
    statement = build(db, name);
    statements.set(name, statement);
  }
  return statement;
}
