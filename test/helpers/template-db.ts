/**
 * Vitest global setup: one migrated database per run, cloned by every suite instead of an initdb and all migrations
 * per server (test/helpers/harness.ts `freshDatabase`). PGlite: a migrated in-memory cluster's `dumpDataDir`, written
 * to a file the workers load (`loadDataDir`). PostgreSQL (TEST_DATABASE_URL): a migrated database that suites copy
 * with `CREATE DATABASE … TEMPLATE`. Both are removed at the end of the run.
 */
import { randomBytes } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { openDatabase } from "../../src/db/client.js";

declare module "vitest" {
  export interface ProvidedContext {
    dbTemplate: { pgliteDump: string; postgresDatabase: string | null };
  }
}

export default async function setup(project: TestProject) {
  const pgliteDump = join(tmpdir(), `gpuplane-test-template-${process.pid}-${randomBytes(4).toString("hex")}.tar`);
  const embedded = await openDatabase({ dataDir: "memory://" });
  const dump = await ((embedded.db as any).$client as PGlite).dumpDataDir("none");
  writeFileSync(pgliteDump, new Uint8Array(await dump.arrayBuffer()));
  await embedded.close();

  const base = process.env.TEST_DATABASE_URL;
  let postgresDatabase: string | null = null;
  if (base) {
    postgresDatabase = `gp_template_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
    await adminQuery(base, `create database ${postgresDatabase}`);
    const url = new URL(base);
    url.pathname = `/${postgresDatabase}`;
    const migrated = await openDatabase({ databaseUrl: url.toString(), poolSize: 1 });
    await migrated.close();
  }
  project.provide("dbTemplate", { pgliteDump, postgresDatabase });

  return async () => {
    rmSync(pgliteDump, { force: true });
    if (base && postgresDatabase) await adminQuery(base, `drop database if exists ${postgresDatabase} with (force)`);
  };
}

async function adminQuery(url: string, text: string) {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(text);
  } finally {
    await admin.end();
  }
}
