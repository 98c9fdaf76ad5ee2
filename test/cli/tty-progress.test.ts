import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sshPublicKey } from "../instances/fixtures.js";
import { type LiveServer, startLiveServer } from "../sdk/live-server.js";
import { CLI_BIN, tempHome } from "./run-cli.js";

/** Runs a command under a pseudo-terminal (util-linux `script`), as in a person's terminal, and returns what it drew. */
function inTerminal(command: string[], env: Record<string, string>): Promise<{ code: number | null; screen: string }> {
  const quoted = command.map((word) => `'${word.replaceAll("'", "'\\''")}'`).join(" ");
  return new Promise((resolve, reject) => {
    const child = spawn("script", ["-qec", quoted, "/dev/null"], { env: { ...process.env, ...env }, stdio: "pipe" });
    let screen = "";
    child.stdout.on("data", (d) => (screen += d));
    child.stderr.on("data", (d) => (screen += d));
    child.stdin.end();
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, screen }));
  });
}

describe("gpuplane instances launch --wait on a terminal", () => {
  let server: LiveServer;
  const { home, remove } = tempHome();
  let env: Record<string, string>;
  beforeAll(async () => {
    server = await startLiveServer("pglite");
    const account = await server.signup();
    await server.post(`/api/v1/tenants/${account.tenantId}/credits`, { amount_usd: "50" });
    await server.post("/api/v1/ssh-keys", { name: "k", public_key: sshPublicKey() }, account.key);
    env = { HOME: home, GPUPLANE_URL: server.url, GPUPLANE_API_KEY: account.key, GPUPLANE_POLL_MS: "200" };
  });
  afterAll(async () => {
    await server?.close();
    remove();
  });

  it("draws a spinner with the state and elapsed time, a line per state change, and the ssh command", async () => {
    const { code, screen } = await inTerminal(
      [process.execPath, CLI_BIN, "instances", "launch", "GPU.A100.1x", "--wait"],
      env,
    );
    expect(code, screen).toBe(0);
    const id = /launched (\S+)/.exec(screen)![1];
    // The spinner redraws its line in place: carriage return, erase line, a braille frame, the state and the time.
    expect(screen).toMatch(new RegExp(`\\r\\x1b\\[2K[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] ${id} provisioning · \\d+s`));
    // Each state change stays on screen as its own line, in order.
    const changes = [...screen.matchAll(/✓ (\w+) \(\d+s\)/g)].map((m) => m[1]);
    expect(changes.at(-1)).toBe("running");
    expect(changes).toContain("provisioning");
    expect(new Set(changes).size).toBe(changes.length);
    expect(screen).toMatch(/is running after \d+s\r?\nssh -p 22 \w+@[\d.]+/);
  });
});
