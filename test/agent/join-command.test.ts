// The join command the API hands out runs as printed: in a gpuplane checkout after `npm install`, `npx` finds the
// agent's bin (npm workspaces link it). Run here with --once --dry-run, which discovers the host and contacts nothing.

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../helpers/harness.js";

describe("the agent join command", () => {
  let h: Harness;
  const stateDir = mkdtempSync(join(tmpdir(), "gpuplane-join-"));
  beforeAll(async () => {
    h = await createHarness("pglite");
  });
  afterAll(async () => {
    await h?.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it("runs as printed from the repository", async () => {
    const cluster = await h.post("/api/v1/clusters", { name: "join-test", region: "us-east-1" });
    const created = await h.post(`/api/v1/clusters/${cluster.body.data.id}/join-tokens`, {});
    const command: string = created.body.data.join_command;
    expect(command).toMatch(/^npx gpuplane-agent --server \S+ --token gpj_[0-9a-f]{64}$/);
    const run = spawnSync("sh", ["-c", `${command} --once --dry-run --state-dir ${stateDir}`], {
      cwd: process.cwd(),
      encoding: "utf8",
      timeout: 60_000,
      env: { ...process.env, npm_config_offline: "true" },
    });
    expect(run.stderr).not.toMatch(/not found|E404/);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('"agent_version"');
  }, 90_000);
});
