// The device kit (issue 19 item 8): `npm run build:device-kit` writes a folder whose agent runs with only `node`,
// from a directory with nothing of gpuplane in it, and whose device-check.sh finds that agent beside itself.
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fakeNvidiaSmiDir } from "./spawn-agent.js";

describe("device kit", () => {
  const dir = mkdtempSync(join(tmpdir(), "gpuplane-kit-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("builds a small folder whose agent prints its version from an empty directory with only node", () => {
    const kit = join(dir, "kit");
    const built = spawnSync("npm", ["run", "--silent", "build:device-kit", "--", kit], { encoding: "utf8" });
    expect(built.status, built.stderr).toBe(0);
    expect(readdirSync(kit).sort()).toEqual(["VERSION", "device-check.sh", "gpuplane-agent.mjs"]);
    const size = readdirSync(kit).reduce((n, f) => n + statSync(join(kit, f)).size, 0);
    expect(size).toBeLessThan(64 * 1024 * 1024);

    // Carried elsewhere: a fresh folder, no node_modules above it, PATH holding only node's directory.
    const host = join(dir, "host");
    cpSync(kit, host, { recursive: true });
    const empty = mkdtempSync(join(dir, "cwd-"));
    const nodeDir = join(process.execPath, "..");
    const run = spawnSync(process.execPath, [join(host, "gpuplane-agent.mjs"), "--version"], {
      cwd: empty,
      env: { PATH: nodeDir, HOME: empty },
      encoding: "utf8",
    });
    expect(run.status, run.stderr).toBe(0);
    const version = spawnSync("cat", [join(kit, "VERSION")], { encoding: "utf8" }).stdout.split(" ")[0];
    expect(run.stdout.trim()).toContain(version);
  }, 60_000);

  it("runs device-check.sh's agent step from the kit, outside any checkout, and says the server step needs one", () => {
    const host = join(dir, "host");
    const out = join(dir, "out");
    const run = spawnSync("bash", [join(host, "device-check.sh")], {
      cwd: mkdtempSync(join(dir, "cwd-")),
      env: { PATH: `${fakeNvidiaSmiDir}:${join(process.execPath, "..")}:/usr/bin:/bin`, OUT: out },
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(run.status, run.stderr).toBe(0);
    const report = readFileSync(join(out, "device-report.txt"), "utf8");
    expect(report).toContain("health GPU 0: healthy");
    expect(report).toContain("server: not in the device kit (set GPUPLANE_CHECKOUT");
    expect(report).not.toContain("Cannot find module");
  }, 60_000);
});
