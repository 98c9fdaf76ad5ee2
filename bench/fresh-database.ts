/** A fresh PostgreSQL database for one benchmark, made on the server the benches use and dropped afterwards. */
import { randomBytes } from "node:crypto";
import pg from "pg";

export const benchDatabaseBase =
  process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** Creates `<prefix>_<random>`; `drop` removes it (with force: the bench's own connections may still be open). */
export async function freshDatabase(prefix = "gp_bench"): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: benchDatabaseBase });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = new URL(benchDatabaseBase);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

/** Runs `fn` against a fresh database and drops it afterwards, whatever happens. */
export async function withFreshDatabase(fn: (url: string) => Promise<void>) {
  const fresh = await freshDatabase();
  try {
    await fn(fresh.url);
  } finally {
    await fresh.drop();
  }
}
