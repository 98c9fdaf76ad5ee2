import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sshPublicKey } from "../instances/fixtures.js";
import { type LiveServer, startLiveServer } from "../sdk/live-server.js";
import { runCli, tempHome } from "./run-cli.js";

/** An environment with no repository on the PATH: only Node's own folder and the system's. */
function cleanEnv(home: string): Record<string, string> {
  const nodeDir = resolve(process.execPath, "..");
  return { PATH: `${nodeDir}:/usr/bin:/bin`, HOME: home, XDG_CONFIG_HOME: join(home, ".config") };
}

/**
 * Issue 20 item 8: the CLI installs the way docs/cli.md says on a clean prefix, and its new commands (signup, logs,
 * ssh on a simulated instance, balance's burn rate and runway, errors that name commands, serve --help).
 */
describe("gpuplane CLI: install on a clean prefix and the day-one commands", () => {
  let server: LiveServer;
  const { home, remove } = tempHome();
  const work = mkdtempSync(join(tmpdir(), "gpuplane-install-"));
  const cli = (args: string[], env: Record<string, string> = {}, stdin?: string) => runCli(args, { home, env, stdin });

  beforeAll(async () => {
    server = await startLiveServer("pglite");
    writeFileSync(join(home, ".ssh", "id_ed25519.pub"), `${sshPublicKey("ed25519", 0, "me@laptop")}\n`);
  });
  afterAll(async () => {
    await server?.close();
    remove();
    rmSync(work, { recursive: true, force: true });
  });

  it("installs globally from npm pack's tarball on a clean prefix and runs --version and a real command", async () => {
    const env = cleanEnv(work);
    const npm = join(resolve(process.execPath, ".."), "npm");
    execFileSync(npm, ["pack", "--pack-destination", work], { cwd: "packages/cli", env, stdio: "pipe" });
    const tarball = join(work, readdirSync(work).find((f) => f.endsWith(".tgz"))!);
    const prefix = join(work, "prefix");
    const install = spawnSync(npm, ["install", "-g", "--offline", "--prefix", prefix, tarball], {
      cwd: work,
      env,
      encoding: "utf8",
    });
    expect(install.status, install.stderr).toBe(0);
    const bin = join(prefix, "bin", "gpuplane");
    const version = spawnSync(bin, ["--version"], { cwd: work, env, encoding: "utf8" });
    expect(version.stderr).toBe("");
    expect(version.stdout).toBe("gpuplane 0.1.0\n");
    // Asynchronous: the server under test answers from this process.
    const offers = await runCli(["offers", "--gpu", "A100", "--json"], {
      home: work,
      bin,
      env: { ...env, GPUPLANE_URL: server.url, GPUPLANE_API_KEY: (await server.signup()).key },
    });
    expect(offers.code, offers.stderr).toBe(0);
    expect(offers.json().length).toBeGreaterThan(0);
  }, 120_000);

  it("installs with docs/cli.md's own command (the folders) on a clean prefix", () => {
    const env = cleanEnv(work);
    const prefix = join(work, "from-folders");
    const npm = join(resolve(process.execPath, ".."), "npm");
    const install = spawnSync(
      npm,
      ["install", "-g", "--offline", "--prefix", prefix, resolve("packages/sdk"), resolve("packages/cli")],
      { cwd: work, env, encoding: "utf8" },
    );
    expect(install.status, install.stderr).toBe(0);
    const version = spawnSync(join(prefix, "bin", "gpuplane"), ["--version"], { cwd: work, env, encoding: "utf8" });
    expect(version.stderr).toBe("");
    expect(version.stdout).toBe("gpuplane 0.1.0\n");
  }, 120_000);

  it("signup creates the account and saves its key as the current profile, like login", async () => {
    const email = `new-${Date.now()}@example.com`;
    const signed = await cli(["signup", "--email", email, "--url", server.url], {}, "a-long-password\n");
    expect(signed.stderr).toBe("");
    expect(signed.code).toBe(0);
    expect(signed.stdout).toMatch(new RegExp(`^signed up at ${server.url} as tenant \\d+ \\(${email}\\)`));
    const config = JSON.parse(readFileSync(join(home, ".config", "gpuplane", "config.json"), "utf8"));
    expect(config.current).toBe("default");
    expect(config.profiles.default.api_key).toMatch(/^gpk_/);
    const whoami = await cli(["whoami", "--json"]);
    expect(whoami.json()).toMatchObject({ operator: false });
    const again = await cli(
      ["signup", "--email", email, "--url", server.url, "--profile", "twice"],
      {},
      "pw-pw-pw-pw\n",
    );
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/CONFLICT/);
  });

  it("balance shows the burn rate and the runway while an instance runs", async () => {
    const idle = await cli(["balance"]);
    expect(idle.stdout).toMatch(/burn rate:\s+nothing running/);
    expect((await cli(["ssh-keys", "add"])).code).toBe(0);
    const launched = await cli(["instances", "launch", "GPU.A100.1x", "--wait", "--json"]);
    expect(launched.code, launched.stderr).toBe(0);
    const busy = await cli(["balance"]);
    expect(busy.stdout).toMatch(/burn rate:\s+\$1\.29\/hour/);
    expect(busy.stdout).toMatch(/runway:\s+(\d+h)?\d+m\d+s until running instances are stopped/);
  });

  it("ssh on a simulated instance refuses at once with a sentence instead of hanging", async () => {
    const [instance] = (await cli(["instances", "list", "--json"])).json();
    const started = Date.now();
    const ssh = await cli(["ssh", instance.id]);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(ssh.code).toBe(2);
    expect(ssh.stderr).toBe(
      `gpuplane: ${instance.id} is a simulated instance (this server's simulator provider): there is no machine behind it to SSH into\n`,
    );
  });

  it("logs prints the container's output, or says why there is none; --events the instance's history", async () => {
    const [instance] = (await cli(["instances", "list", "--json"])).json();
    const output = await cli(["logs", instance.id]);
    expect(output.code, output.stderr).toBe(0);
    expect(output.stdout).toContain("no container logs: a simulated instance runs no container");
    const logs = await cli(["logs", instance.id, "--events"]);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d {2}created \(GPU\.A100\.1x in [\w-]+\)\n/);
    expect(logs.stdout).toMatch(/\d\d:\d\d {2}running\n/);
    expect(logs.stdout).toMatch(/now running\n/);
    expect((await cli(["logs", "no-such-instance"])).code).toBe(3);
  });

  it("errors name the command to run instead of an API route", async () => {
    const unknown = await cli(["instances", "launch", "GPU.NOPE.1x"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("run `gpuplane offers`");
    expect(unknown.stderr).not.toContain("/api/v1");
    const image = await cli(["instances", "launch", "GPU.A100.1x", "--image", "no-such-image"]);
    expect(image.stderr).toContain("run `gpuplane images`");
    expect(image.stderr).not.toContain("/api/v1");
  });

  it("serve --help prints help and starts no server", async () => {
    const help = await runCli(["serve", "--help"], { home, bin: "bin/gpuplane.mjs" });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("gpuplane serve ");
    expect(help.stdout + help.stderr).not.toMatch(/gpk_|listening/i);
  }, 60_000);
});
