import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, renameSync, rmSync, writeFileSync } from "node:fs";

export interface UpgradeTarget {
  version: string;
  sha256: string;
  url: string;
}

/**
 * Replaces the single file this agent runs from with the server's newer build: downloads it, refuses it unless its
 * sha256 is the one the server announced and it starts (`--version` answers with that version), keeps the old file
 * as `<file>.previous`, and swaps the new one in with a rename (a crash leaves one whole file or the other). The
 * caller then exits for its supervisor (systemd, or install.sh's run.sh) to start the new file.
 */
export async function replaceAgentFile(file: string, target: UpgradeTarget, timeoutMs = 60_000): Promise<void> {
  const response = await fetch(target.url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) throw new Error(`GET ${target.url}: HTTP ${response.status}`);
  const code = Buffer.from(await response.arrayBuffer());
  const sha = createHash("sha256").update(code).digest("hex");
  if (sha !== target.sha256) {
    throw new Error(`downloaded agent has sha256 ${sha}, the server announced ${target.sha256}: not installed`);
  }
  const next = `${file}.new.mjs`; // Node loads only .mjs/.js files as modules
  writeFileSync(next, code, { mode: 0o755 });
  try {
    const check = spawnSync(process.execPath, [next, "--version"], { encoding: "utf8", timeout: 30_000 });
    const printed = check.stdout.trim().split(/\s+/)[1];
    if (check.status !== 0 || printed !== target.version) {
      throw new Error(
        `the new agent did not start (exit ${check.status}, printed "${check.stdout.trim()}${check.stderr.trim()}")`,
      );
    }
    copyFileSync(file, `${file}.previous`);
    chmodSync(next, 0o755);
    renameSync(next, file);
  } finally {
    rmSync(next, { force: true });
  }
}
