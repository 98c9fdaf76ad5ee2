import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

/** Real `gpuplane` processes, as a user runs them. */
interface Proc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function start(args: string[], env: Record<string, string>): Proc {
  const base = { ...process.env };
  for (const name of ["DATABASE_URL", "GPUPLANE_ADMIN_KEY", "REDIS_URL", "PORT"]) delete base[name];
  const child = spawn(process.execPath, ["bin/gpuplane.mjs", ...args], {
    env: { ...base, LOG_LEVEL: "info", GPUPLANE_WORKERS: "off", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function waitFor(proc: Proc, pattern: RegExp, ms = 200_000) {
  const until = Date.now() + ms;
  while (!pattern.test(proc.output())) {
    if (proc.child.exitCode !== null) throw new Error(`exited ${proc.child.exitCode}: ${proc.output()}`);
    if (Date.now() > until) throw new Error(`timed out waiting for ${pattern}: ${proc.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const port = () => 20_000 + Math.floor(Math.random() * 20_000);
const dirs: string[] = [];
const tmp = () => {
  const dir = mkdtempSync(join(tmpdir(), "gpuplane-test-"));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

// Each test starts real server processes (PGlite initdb and every migration in a child): minutes on a loaded 2-core machine.
describe("the server process on PGlite", { timeout: 240_000 }, () => {
  it("locks its data folder: a second server refuses with a clear message; the key is printed once", async () => {
    const dataDir = tmp();
    const firstPort = port();
    const first = start(["serve"], { GPUPLANE_DATA_DIR: dataDir, PORT: String(firstPort) });
    try {
      await waitFor(first, /gpuplane listening/);
      const printed = /operator API key \(shown once[^\n]*\n\s*\n\s*(\S+)/.exec(first.output())?.[1];
      expect(printed).toMatch(/^gpk_[0-9a-f]{64}$/);
      const health = await fetch(`http://127.0.0.1:${firstPort}/healthz`);
      expect(await health.json()).toEqual({ status: "ok", database: "pglite" });
      const tenants = await fetch(`http://127.0.0.1:${firstPort}/api/v1/tenants`, {
        headers: { authorization: `Bearer ${printed}` },
      });
      expect(tenants.status).toBe(200);
      const huge = await fetch(`http://127.0.0.1:${firstPort}/api/v1/auth/register`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: "a@b.io", password: "x".repeat(5 * 1024 * 1024) }),
      });
      expect(huge.status).toBe(413);
      expect((await huge.json()).code).toBe("PAYLOAD_TOO_LARGE");

      const second = start(["serve"], { GPUPLANE_DATA_DIR: dataDir, PORT: String(port()) });
      const code = await second.exited;
      expect(code).not.toBe(0);
      expect(second.output()).toContain("is in use by another gpuplane process");
      expect(second.output()).toContain(`pid ${first.child.pid}`);
      expect(second.output()).not.toMatch(/\n\s+at /); // a message, not a stack trace
    } finally {
      first.child.kill("SIGTERM");
      expect(await first.exited).toBe(0);
    }

    // Stopped cleanly: the folder is free again, and the operator key is not generated twice.
    const again = start(["serve"], { GPUPLANE_DATA_DIR: dataDir, PORT: String(port()) });
    try {
      await waitFor(again, /gpuplane listening/);
      expect(again.output()).not.toContain("operator API key");
    } finally {
      again.child.kill("SIGTERM");
      await again.exited;
    }
  });

  it("applies migrations with `migrate` and exits", async () => {
    const proc = start(["migrate"], { GPUPLANE_DATA_DIR: tmp() });
    expect(await proc.exited).toBe(0);
    expect(proc.output()).toContain("migrations applied (pglite)");
  });

  it("refuses bad configuration with a one-line message", async () => {
    const proc = start(["serve"], { GPUPLANE_DATA_DIR: tmp(), GPUPLANE_RATE_LIMITS: '{"reads":5}' });
    expect(await proc.exited).toBe(1);
    expect(proc.output()).toMatch(/^gpuplane: configuration: GPUPLANE_RATE_LIMITS/m);
  });
});

describe.skipIf(!process.env.TEST_DATABASE_URL)("the server process on PostgreSQL", { timeout: 240_000 }, () => {
  it("serves from DATABASE_URL and registers GPUPLANE_ADMIN_KEY", async () => {
    const { freshDatabase, OPERATOR_KEY } = await import("../helpers/harness.js");
    const fresh = await freshDatabase("postgres");
    await fresh.database.close(); // only its URL is needed; the server migrates it (already done: a no-op)
    const serverPort = port();
    const proc = start(["serve"], {
      DATABASE_URL: fresh.url!,
      GPUPLANE_ADMIN_KEY: OPERATOR_KEY,
      PORT: String(serverPort),
      GPUPLANE_DATA_DIR: tmp(),
    });
    try {
      await waitFor(proc, /gpuplane listening/);
      expect(proc.output()).not.toContain("operator API key");
      const health = await fetch(`http://127.0.0.1:${serverPort}/healthz`);
      expect(await health.json()).toEqual({ status: "ok", database: "postgres" });
      const res = await fetch(`http://127.0.0.1:${serverPort}/api/v1/tenants`, {
        headers: { "x-api-key": OPERATOR_KEY },
      });
      expect(res.status).toBe(200);
    } finally {
      proc.child.kill("SIGTERM");
      await proc.exited;
      const pg = (await import("pg")).default;
      const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
      await admin.connect();
      await admin.query(`drop database if exists ${new URL(fresh.url!).pathname.slice(1)} with (force)`);
      await admin.end();
    }
  });
});
