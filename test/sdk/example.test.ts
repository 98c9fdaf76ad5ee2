import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sshPublicKey } from "../instances/fixtures.js";
import { type LiveServer, startLiveServer } from "./live-server.js";

const run = promisify(execFile);

describe("the TypeScript SDK example (docs/sdk.md)", () => {
  let server: LiveServer;
  beforeAll(async () => {
    server = await startLiveServer("pglite");
  });
  afterAll(() => server?.close());

  it("launches the cheapest instance and prints each state and the ssh command", async () => {
    const account = await server.signup();
    await server.post(`/api/v1/tenants/${account.tenantId}/credits`, { amount_usd: "100" });
    await server.post("/api/v1/ssh-keys", { name: "k", public_key: sshPublicKey() }, account.key);
    // Asynchronous: the server lives in this process and must keep answering while the example runs.
    const { stdout } = await run(process.execPath, ["bin/run-ts.mjs", "packages/sdk/examples/launch-and-wait.ts"], {
      env: { ...process.env, GPUPLANE_URL: server.url, GPUPLANE_API_KEY: account.key },
    });
    const lines = stdout.trim().split("\n");
    expect(lines.at(-2)).toMatch(/ running$/);
    expect(lines.at(-1)).toMatch(/^ssh -p \d+ \w+@[\d.]+$/);
  });
});
