import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import type { ExtractTablesWithRelations } from "drizzle-orm";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import { migrate as migratePg } from "drizzle-orm/node-postgres/migrator";
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import pg from "pg";
import { inServerBundle } from "../lib/bundle.js";
import * as schema from "./schema/index.js";

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
/** Anything a query can run on: the database or an open transaction. */
export type Executor = Db | Tx;

export interface Database {
  db: Db;
  kind: "pglite" | "postgres";
  /** The PostgreSQL pool (COPY and session-level advisory locks need a raw client); absent on PGlite. */
  pool?: pg.Pool;
  /**
   * Runs `fn` only if no other holder (in this process or, on PostgreSQL, any replica) holds `name`.
   * Returns undefined when the lock was busy. Background loops take one per tick.
   */
  tryWithLock<T>(name: string, fn: () => Promise<T>): Promise<T | undefined>;
  close(): Promise<void>;
}

/** drizzle/ in the checkout; in the device kit's server bundle, the copy beside it (scripts/build-device-kit.ts). */
const migrationsFolder = resolve(dirname(fileURLToPath(import.meta.url)), inServerBundle ? "drizzle" : "../../drizzle");

// PostgreSQL returns int8 and numeric as strings; money columns are declared mode "bigint" in the schema,
// and raw aggregates are normalised by lib/money's toMicros. Timestamps stay Dates.
export interface OpenOptions {
  databaseUrl?: string;
  /** PGlite folder; "memory://" for a throwaway in-memory database. */
  dataDir?: string;
  /** An in-memory PGlite starts from this dump (`dumpDataDir`) instead of an empty cluster: tests clone a migrated one. */
  loadDataDir?: Blob;
  migrate?: boolean;
  poolSize?: number;
}

export async function openDatabase(options: OpenOptions): Promise<Database> {
  const database = options.databaseUrl
    ? await openPostgres(options.databaseUrl, options.poolSize ?? 10)
    : await openPglite(options.dataDir ?? "./.gpuplane", options.loadDataDir);
  if (options.migrate !== false) await runMigrations(database);
  return database;
}

export async function runMigrations(database: Database): Promise<void> {
  if (database.kind === "pglite") {
    await migratePglite(database.db as any, { migrationsFolder });
    return;
  }
  // Replicas starting together must not race the migrator: hold a session lock on one connection.
  const client = await database.pool!.connect();
  try {
    await client.query("select pg_advisory_lock(hashtext('gpuplane:migrate'))");
    await migratePg(drizzlePg(client, { schema }), { migrationsFolder });
  } finally {
    await client.query("select pg_advisory_unlock(hashtext('gpuplane:migrate'))").catch(() => {});
    client.release();
  }
}

async function openPostgres(url: string, poolSize: number): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  pool.on("error", () => {}); // an idle client's broken connection is replaced by the pool; queries surface errors
  const db = drizzlePg(pool, { schema }) as unknown as Db;
  return {
    db,
    kind: "postgres",
    pool,
    async tryWithLock(name, fn) {
      const client = await pool.connect();
      try {
        const { rows } = await client.query("select pg_try_advisory_lock(hashtext($1)) as ok", [name]);
        if (!rows[0].ok) return undefined;
        try {
          return await fn();
        } finally {
          await client.query("select pg_advisory_unlock(hashtext($1))", [name]);
        }
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

/**
 * PostgreSQL's settings for the embedded database. shared_buffers is PGlite's largest allocation inside its
 * WebAssembly memory; 32 MB (PostgreSQL's default is 128 MB) suits a database one process serves, and cuts the
 * server's memory at rest by ~140 MiB (README, "Benchmarks").
 */
const embeddedSettings = ["-c", "shared_buffers=32MB"];
const startParams = [...PGlite.defaultStartParams, ...embeddedSettings];

/**
 * initdb in a child process: see pglite-initdb.mjs. Waits for it; throws with its stderr if it fails. The device kit
 * bundles that script too, beside the server's bundle with PGlite's files, so the same relative URL finds it there.
 */
function initPgliteCluster(pgdata: string) {
  const script = fileURLToPath(new URL("./pglite-initdb.mjs", import.meta.url));
  const result = spawnSync(process.execPath, [script, pgdata, ...embeddedSettings], { encoding: "utf8" });
  if (result.status !== 0) {
    throw new Error(`could not create the embedded database in ${pgdata}: ${result.stderr || result.error}`);
  }
}

async function openPglite(dataDir: string, loadDataDir?: Blob): Promise<Database> {
  const inMemory = dataDir.startsWith("memory://");
  const release = inMemory ? () => {} : lockDataDir(dataDir);
  let client: PGlite;
  try {
    if (inMemory) client = new PGlite({ startParams, ...(loadDataDir && { loadDataDir }) });
    else {
      const pgdata = resolve(dataDir, "pgdata");
      if (!existsSync(join(pgdata, "PG_VERSION"))) initPgliteCluster(pgdata);
      client = new PGlite(pgdata, { startParams });
    }
    await client.waitReady;
  } catch (error) {
    release();
    throw error;
  }
  const db = drizzlePglite(client, { schema }) as unknown as Db;
  const held = new Set<string>();
  return {
    db,
    kind: "pglite",
    async tryWithLock(name, fn) {
      // PGlite is one process by construction (the folder lock below), so an in-process lock is enough.
      if (held.has(name)) return undefined;
      held.add(name);
      try {
        return await fn();
      } finally {
        held.delete(name);
      }
    },
    async close() {
      await client.close();
      release();
    },
  };
}

/**
 * PGlite's files are safe for one process only. A lock file holding our pid keeps a second server away;
 * a lock left by a process that no longer exists is taken over.
 */
export function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, "gpuplane.lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (error: any) {
      if (error.code !== "EEXIST") throw error;
      const pid = Number.parseInt(readFileSync(path, "utf8"), 10);
      if (pid && pid !== process.pid && isAlive(pid)) {
        throw new DataDirLockedError(dataDir, pid);
      }
      rmSync(path, { force: true }); // stale: its owner is gone
    }
  }
  throw new DataDirLockedError(dataDir, 0);
}

export class DataDirLockedError extends Error {
  constructor(dataDir: string, pid: number) {
    super(
      `The embedded database in ${resolve(dataDir)} is in use by another gpuplane process${pid ? ` (pid ${pid})` : ""}. ` +
        "PGlite serves one process only: stop that server, point GPUPLANE_DATA_DIR at another folder, " +
        "or set DATABASE_URL to share a PostgreSQL server between replicas.",
    );
    this.name = "DataDirLockedError";
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error: any) {
    return error.code === "EPERM";
  }
}
