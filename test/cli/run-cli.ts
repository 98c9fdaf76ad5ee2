import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const CLI_BIN = resolve("packages/cli/bin/gpuplane.mjs");

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  json(): any;
}

/**
 * Runs the real `gpuplane` binary in a child process, as a person's shell would, with its own HOME and config dir.
 * Asynchronous on purpose: the server under test lives in this process and must keep answering meanwhile.
 */
export function runCli(
  args: string[],
  options: { env?: Record<string, string>; home: string; stdin?: string; bin?: string },
): Promise<CliResult> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("GPUPLANE_")) env[k] = v;
  Object.assign(env, { HOME: options.home, XDG_CONFIG_HOME: join(options.home, ".config"), GPUPLANE_POLL_MS: "200" });
  Object.assign(env, options.env);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [options.bin ?? CLI_BIN, ...args], { env, stdio: "pipe" });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.stdin.end(options.stdin ?? "");
    child.on("close", (code) =>
      resolvePromise({
        code,
        stdout,
        stderr,
        json() {
          try {
            return JSON.parse(stdout);
          } catch {
            throw new Error(`not JSON (exit ${code}): ${stdout}\n${stderr}`);
          }
        },
      }),
    );
  });
}

/** A throwaway home folder (config, ~/.ssh) per test file, removed afterwards. */
export function tempHome() {
  const home = mkdtempSync(join(tmpdir(), "gpuplane-cli-"));
  mkdirSync(join(home, ".ssh"));
  return { home, remove: () => rmSync(home, { recursive: true, force: true }) };
}

/** An executable shell script at `dir/name` (a stand-in `ssh` that records how it was called). */
export function writeScript(dir: string, name: string, body: string) {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}
