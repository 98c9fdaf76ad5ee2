import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";

const lock = "web/.build-lock";

const newest = (dir: string): number =>
  Math.max(
    0,
    ...readdirSync(dir, { withFileTypes: true }).map((e) =>
      e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs,
    ),
  );

function isStale() {
  const built = "web/dist/index.html";
  const sources = Math.max(
    newest("web/src"),
    statSync("web/index.html").mtimeMs,
    statSync("web/vite.config.ts").mtimeMs,
  );
  return !existsSync(built) || statSync(built).mtimeMs < sources;
}

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * Builds web/dist when it is missing or older than a source file, so the tests always see the current console.
 * Test files run in parallel workers: a lock folder keeps two of them from emptying web/dist under each other.
 */
export function buildConsoleIfStale() {
  if (!isStale()) return;
  for (let waited = 0; ; waited += 100) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock older than a minute was left by a killed run.
      const since = statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now();
      if (waited > 60_000 || Date.now() - since > 60_000) {
        rmSync(lock, { recursive: true, force: true });
      }
      sleep(100);
    }
  }
  try {
    if (!isStale()) return;
    const result = spawnSync(
      process.execPath,
      ["node_modules/vite/bin/vite.js", "build", "--config", "web/vite.config.ts", "--logLevel", "warn"],
      // Vitest sets NODE_ENV=test, which would bundle React's development build: build what `npm run build:web` does.
      { encoding: "utf8", env: { ...process.env, NODE_ENV: "production" } },
    );
    if (result.status !== 0) throw new Error(`vite build failed:\n${result.stdout}\n${result.stderr}`);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
