// The join command the API hands out is one line that needs no checkout: install.sh from the server. The agent it
// installs is one file that runs with plain `node` from an empty directory (no node_modules anywhere above it).

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../helpers/harness.js";
import { fakeNvidiaSmiDir } from "./spawn-agent.js";

describe("the agent join command and the single-file agent", () => {
  let h: Harness;
  const dir = mkdtempSync(join(tmpdir(), "gpuplane-join-"));
  beforeAll(async () => {
    h = await createHarness("pglite", { env: { GPUPLANE_PUBLIC_URL: "https://gpus.example.com/" } });
  });
  afterAll(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("is one line carrying the public URL, with no warning when it is not a loopback address", async () => {
    const cluster = await h.post("/api/v1/clusters", { name: "join-test", region: "us-east-1" });
    const created = await h.post(`/api/v1/clusters/${cluster.body.data.id}/join-tokens`, {});
    expect(created.body.data.join_command).toMatch(
      /^curl -fsSL https:\/\/gpus\.example\.com\/agent\/install\.sh \| sudo sh -s -- --token gpj_[0-9a-f]{64}$/,
    );
    expect(created.body.data.join_command_warning).toBeNull();
    const script = await h.app.request("/agent/install.sh");
    expect(await script.text()).toContain('SERVER="https://gpus.example.com"');
  });

  it("serves one file that runs with node from an empty directory", async () => {
    const res = await h.app.request("/agent/gpuplane-agent.mjs");
    expect(res.status).toBe(200);
    const code = Buffer.from(await res.arrayBuffer());
    const version = await (await h.app.request("/agent/version")).json();
    expect(version).toMatchObject({ version: "0.1.0", url: "https://gpus.example.com/agent/gpuplane-agent.mjs" });
    expect(createHash("sha256").update(code).digest("hex")).toBe(version.sha256);
    expect(code.length).toBeLessThan(1024 * 1024);
    // Only Node's own modules are imported: nothing to install.
    const imports = [...code.toString().matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]);
    expect(imports.filter((m) => !m.startsWith("node:"))).toEqual([]);

    const empty = mkdtempSync(join(dir, "host-"));
    writeFileSync(join(empty, "gpuplane-agent.mjs"), code);
    const env = { PATH: `${fakeNvidiaSmiDir}:/usr/bin:/bin`, HOME: empty };
    const printed = spawnSync(process.execPath, ["gpuplane-agent.mjs", "--version"], {
      cwd: empty,
      env,
      encoding: "utf8",
    });
    expect(printed.stdout.trim()).toBe(`gpuplane-agent 0.1.0 ${version.sha256}`);
    const dry = spawnSync(
      process.execPath,
      ["gpuplane-agent.mjs", "--once", "--dry-run", "--runtime", "none", "--state-dir", join(empty, "state")],
      { cwd: empty, env, encoding: "utf8", timeout: 60_000 },
    );
    expect(dry.status, dry.stderr).toBe(0);
    const report = JSON.parse(dry.stdout);
    expect(report.agent_version).toBe("0.1.0");
    expect(report.gpus).toHaveLength(8);
  }, 90_000);
});
