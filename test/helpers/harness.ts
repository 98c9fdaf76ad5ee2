import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import pg from "pg";
import pino from "pino";
import { afterAll, beforeAll, describe, inject } from "vitest";
import { loadConfig } from "../../src/config.js";
import { type Database, openDatabase } from "../../src/db/client.js";
import { ManualClock } from "../../src/lib/clock.js";
import { buildServer } from "../../src/server.js";

export type DbKind = "pglite" | "postgres";

/** The databases a storage-touching suite runs on: PGlite always, PostgreSQL when TEST_DATABASE_URL is set. */
export const dbKinds: DbKind[] = process.env.TEST_DATABASE_URL ? ["pglite", "postgres"] : ["pglite"];

export const OPERATOR_KEY = `gpk_${"0".repeat(8)}${randomBytes(28).toString("hex")}`;

/**
 * A fresh, migrated database: in-memory PGlite, or a new PostgreSQL database created for this suite and dropped after.
 * Both are copies of the run's migrated template (test/helpers/template-db.ts) when the run has one.
 */
export async function freshDatabase(
  kind: DbKind,
): Promise<{ database: Database; url?: string; drop(): Promise<void> }> {
  const template = templates();
  if (kind === "pglite") {
    const database = await openDatabase({ dataDir: "memory://", loadDataDir: pgliteTemplate(template?.pgliteDump) });
    return { database, drop: () => database.close() };
  }
  const base = process.env.TEST_DATABASE_URL!;
  const name = `gp_test_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  try {
    await admin.query(
      `create database ${name}${template?.postgresDatabase ? ` template ${template.postgresDatabase}` : ""}`,
    );
  } finally {
    await admin.end();
  }
  const url = new URL(base);
  url.pathname = `/${name}`;
  const database = await openDatabase({ databaseUrl: url.toString(), poolSize: 10 });
  return {
    database,
    url: url.toString(),
    async drop() {
      await database.close();
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

/** The run's templates, or undefined where the suite runs without the global setup (each database then migrates). */
function templates() {
  try {
    return inject("dbTemplate");
  } catch {
    return undefined;
  }
}

let pgliteDump: { path: string; blob: Blob } | undefined;
function pgliteTemplate(path: string | undefined): Blob | undefined {
  if (!path) return undefined;
  if (pgliteDump?.path !== path) pgliteDump = { path, blob: new Blob([readFileSync(path)]) };
  return pgliteDump.blob;
}

export interface HarnessOptions {
  env?: Record<string, string>;
  /** Use a hand-moved clock (default: the wall clock). */
  manualClock?: boolean | Date;
}

export type Harness = Awaited<ReturnType<typeof createHarness>>;

export async function createHarness(kind: DbKind, options: HarnessOptions = {}) {
  const fresh = await freshDatabase(kind);
  const clock = options.manualClock
    ? new ManualClock(options.manualClock instanceof Date ? options.manualClock : new Date("2026-03-02T08:00:00Z"))
    : undefined;
  const server = await buildTestServer(fresh.database, options, clock);
  const client = clientFor(server);
  const replicas: TestServer[] = [];

  return {
    kind,
    server,
    ctx: server.ctx,
    app: server.app,
    clock: clock as ManualClock,
    dbUrl: fresh.url,
    database: fresh.database,
    operatorKey: OPERATOR_KEY,
    ...client,
    runWorker: (name: string) => server.runner!.runOnce(name),
    /**
     * Another server on the same database, as a second replica would be: on PostgreSQL with its own connection pool
     * (and its own key cache, rate limiter, …); on PGlite sharing the one embedded database. `env` adds to this
     * harness's settings. Closed with the harness.
     */
    async replica(env: Record<string, string> = {}) {
      const database = fresh.url ? await openDatabase({ databaseUrl: fresh.url, poolSize: 5 }) : fresh.database;
      const other = await buildTestServer(database, { ...options, env: { ...options.env, ...env } }, clock);
      const replica = {
        server: other,
        ctx: other.ctx,
        ...clientFor(other),
        async close() {
          const index = replicas.indexOf(replica);
          if (index < 0) return;
          replicas.splice(index, 1);
          await other.close();
          if (database !== fresh.database) await database.close();
        },
      };
      replicas.push(replica);
      return replica;
    },
    async close() {
      for (const replica of [...replicas]) await replica.close();
      await server.close();
      await fresh.drop();
    },
  };
}

interface TestServer {
  server: Awaited<ReturnType<typeof buildServer>>;
  close(): Promise<void>;
}

/**
 * The harness's settings: operator key, workers off, silent logs, limits high enough not to get in the way, and
 * webhooks allowed to private addresses (the test receivers listen on 127.0.0.1).
 */
export function testConfig(env: Record<string, string> = {}) {
  return loadConfig({
    GPUPLANE_ADMIN_KEY: OPERATOR_KEY,
    GPUPLANE_WORKERS: "off",
    GPUPLANE_WEBHOOK_ALLOW_PRIVATE: "on",
    LOG_LEVEL: "silent",
    GPUPLANE_RATE_LIMITS: JSON.stringify({
      instance_create: 10_000,
      instance_action: 10_000,
      billing: 10_000,
      read: 10_000,
      public: 10_000,
      write: 10_000,
    }),
    ...env,
  });
}

async function buildTestServer(database: Database, options: HarnessOptions, clock: ManualClock | undefined) {
  return buildServer(testConfig(options.env), { database, clock, log: pino({ level: "silent" }), workers: false });
}

/** Request helpers over one in-process server. */
export function clientFor(server: {
  app: { request: (path: string, init: RequestInit) => Response | Promise<Response> };
}) {
  async function request(
    method: string,
    path: string,
    init: { key?: string | null; body?: unknown; headers?: Record<string, string>; raw?: string } = {},
  ) {
    const headers: Record<string, string> = { ...init.headers };
    const key = init.key === undefined ? OPERATOR_KEY : init.key;
    if (key) headers["x-api-key"] = key;
    let body: string | undefined;
    if (init.raw !== undefined) body = init.raw;
    else if (init.body !== undefined) body = JSON.stringify(init.body);
    if (body !== undefined) headers["content-type"] ??= "application/json";
    const res = await server.app.request(path, { method, headers, body });
    const text = await res.text();
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, body: json, text, headers: res.headers };
  }

  /** Signs a new customer up and returns its tenant id and key. */
  async function signup(email = `user-${randomBytes(4).toString("hex")}@example.com`) {
    const res = await request("POST", "/api/v1/auth/register", {
      key: null,
      body: { email, password: "correct horse battery" },
    });
    if (res.status !== 201) throw new Error(`signup failed: ${res.status} ${res.text}`);
    return { tenantId: res.body.data.tenant.id as number, key: res.body.data.api_key.key as string, email };
  }

  return {
    request,
    get: (path: string, key?: string | null) => request("GET", path, { key }),
    post: (path: string, body?: unknown, key?: string | null, headers?: Record<string, string>) =>
      request("POST", path, { key, body, headers }),
    patch: (path: string, body?: unknown, key?: string | null) => request("PATCH", path, { key, body }),
    del: (path: string, key?: string | null, headers?: Record<string, string>) =>
      request("DELETE", path, { key, headers }),
    signup,
  };
}

/**
 * Runs a suite once per database kind with its own server: `describeEachDb("instances", (h) => { it(...) })`.
 * `h()` returns the harness inside tests.
 */
export function describeEachDb(name: string, body: (h: () => Harness) => void, options: HarnessOptions = {}) {
  for (const kind of dbKinds) {
    describe(`${name} [${kind}]`, () => {
      let harness: Harness;
      beforeAll(async () => {
        harness = await createHarness(kind, options);
      });
      afterAll(async () => {
        await harness?.close();
      });
      body(() => harness);
    });
  }
}
