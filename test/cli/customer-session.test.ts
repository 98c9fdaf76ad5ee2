import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sshPublicKey } from "../instances/fixtures.js";
import { type LiveServer, startLiveServer } from "../sdk/live-server.js";
import { runCli, tempHome, writeScript } from "./run-cli.js";

/** A customer's first session with the real `gpuplane` binary against a real server (PGlite), start to finish. */
describe("gpuplane CLI: a customer's session", () => {
  let server: LiveServer;
  const { home, remove } = tempHome();
  let tenantId: number;
  let customerKey: string;
  const cli = (args: string[], env: Record<string, string> = {}, stdin?: string) => runCli(args, { home, env, stdin });
  const asOperator = (args: string[]) => cli(args, { GPUPLANE_URL: server.url, GPUPLANE_API_KEY: server.operatorKey });

  beforeAll(async () => {
    server = await startLiveServer("pglite");
    const account = await server.signup();
    tenantId = account.tenantId;
    customerKey = account.key;
    writeFileSync(join(home, ".ssh", "id_ed25519.pub"), `${sshPublicKey("ed25519", 0, "me@laptop")}\n`);
  });
  afterAll(async () => {
    await server?.close();
    remove();
  });

  let instanceId: string;

  it("logs in with a key read from stdin, stores the profile with mode 0600, and whoami shows the tenant", async () => {
    const login = await cli(["login", "--url", server.url], {}, `${customerKey}\n`);
    expect(login.stderr).toBe("");
    expect(login.code).toBe(0);
    expect(login.stdout).toContain(`as tenant ${tenantId}`);
    const file = join(home, ".config", "gpuplane", "config.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, "utf8")).profiles.default).toEqual({ url: server.url, api_key: customerKey });
    const whoami = await cli(["whoami", "--json"]);
    expect(whoami.json()).toMatchObject({ profile: "default", operator: false, tenant_id: tenantId });
  });

  it("refuses a wrong key at login without saving it", async () => {
    const bad = await cli(["login", "--url", server.url, "--api-key", "gpk_nope", "--profile", "broken"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/UNAUTHORIZED, request id \S+/);
    const profiles = await cli(["profiles", "--json"]);
    expect(profiles.json().map((p: any) => p.name)).toEqual(["default"]);
  });

  it("adds ~/.ssh/id_ed25519.pub by default and lists it", async () => {
    const added = await cli(["ssh-keys", "add"]);
    expect(added.code).toBe(0);
    expect(added.stdout).toMatch(/added \S+ \(me@laptop, SHA256:/);
    const listed = await cli(["ssh-keys", "list", "--json"]);
    expect(listed.json().map((k: any) => k.name)).toEqual(["me@laptop"]);
  });

  it("shows offers as a table with price and availability per region, filtered", async () => {
    const table = await cli(["offers", "--gpu", "A100", "--count", "1", "--region", "FIN-01"]);
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^OFFER\s+PLAN\s+GPUS\s+VCPU\s+RAM\s+REGION\s+FREE\s+PRICE\/H$/);
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines.slice(1)) expect(line).toMatch(/1× A100 .*FIN-01\s+\d+\s+\$\d+\.\d{2}/);
    const cheap = await cli(["offers", "--max-price", "1.50", "--json"]);
    const prices = cheap.json().map((o: any) => Number(o.price_per_hour));
    expect(prices.length).toBeGreaterThan(0);
    expect(Math.max(...prices)).toBeLessThanOrEqual(1.5);
  });

  it("exits 4 with the server's message and request id when the balance is below the minimum", async () => {
    // The $5 sign-up credit covers the first hour of an A100 ($1.29), not of eight ($10.32).
    const poor = await cli(["instances", "launch", "GPU.A100.8x", "--wait"]);
    expect(poor.code).toBe(4);
    expect(poor.stderr).toMatch(/^gpuplane: .*balance.* \(INSUFFICIENT_CREDITS, request id [\w.:-]+\)\n$/);
    const json = await cli(["instances", "launch", "GPU.A100.8x", "--json"]);
    expect(json.code).toBe(4);
    expect(JSON.parse(json.stderr)).toMatchObject({ code: "INSUFFICIENT_CREDITS", status: 402, exit_code: 4 });
  });

  it("lets an operator grant credit (environment overrides the saved profile)", async () => {
    const granted = await asOperator(["credits", "grant", String(tenantId), "100", "--json"]);
    expect(granted.code).toBe(0);
    expect(granted.json().transaction.amount_usd).toMatch(/^100\.0+$/);
    const balance = await cli(["balance", "--json"]);
    expect(balance.json()).toMatchObject({ tenant_id: tenantId, can_deploy: true });
  });

  it("launches with --wait: one plain line per state change, then the ssh command", async () => {
    const launched = await cli(["instances", "launch", "GPU.A100.1x", "--name", "trainer", "--wait"]);
    expect(launched.code, launched.stderr).toBe(0);
    instanceId = /launched (\S+)/.exec(launched.stdout)![1];
    const lines = launched.stderr.trim().split("\n");
    expect(lines[0]).toMatch(new RegExp(`^${instanceId} (ordered|provisioning) after \\d+s$`));
    expect(lines.at(-1)).toMatch(new RegExp(`^${instanceId} running after \\d+s$`));
    expect(launched.stderr).not.toContain("\x1b[");
    expect(launched.stdout).toMatch(/is running after \d+s\nssh -p 22 \w+@[\d.]+\n$/);
  });

  it("lists and shows the instance, as a table and as JSON", async () => {
    const table = await cli(["instances", "list"]);
    expect(table.stdout).toMatch(new RegExp(`${instanceId}\\s+trainer\\s+running\\s+GPU.A100.1x`));
    const listed = await cli(["instances", "list", "--json"]);
    expect(listed.json()).toEqual([expect.objectContaining({ id: instanceId, name: "trainer", status: "running" })]);
    const shown = await cli(["instances", "show", instanceId]);
    expect(shown.stdout).toMatch(/status:\s+running/);
    expect(shown.stdout).toMatch(/ssh:\s+ssh -p 22 /);
  });

  it("ssh runs ssh with the instance's user, host and port (and passes arguments after --)", async () => {
    const instance = (await cli(["instances", "show", instanceId, "--json"])).json();
    const printed = await cli(["ssh", instanceId, "--print"]);
    expect(printed.stdout.trim()).toBe(`ssh -p ${instance.sshPort} ${instance.sshUser}@${instance.ipAddress}`);
    const record = join(home, "ssh-args");
    const fakeSsh = writeScript(home, "fake-ssh", `echo "$@" > ${record}; exit 7`);
    const ran = await cli(["ssh", instanceId, "--", "nvidia-smi"], { GPUPLANE_SSH: fakeSsh });
    expect(readFileSync(record, "utf8").trim()).toBe(
      `-p ${instance.sshPort} ${instance.sshUser}@${instance.ipAddress} nvidia-smi`,
    );
    expect(ran.code).toBe(7);
  });

  it("stops, starts with --wait, and deletes the instance", async () => {
    const stopped = await cli(["instances", "stop", instanceId]);
    expect(stopped.stdout.trim()).toBe(`${instanceId} stopped`);
    const notRunning = await cli(["ssh", instanceId]);
    expect(notRunning.code).toBe(2);
    expect(notRunning.stderr).toContain("is stopped, not running");
    const started = await cli(["instances", "start", instanceId, "--wait", "--json"]);
    expect(started.json()).toMatchObject({ id: instanceId, status: "running" });
    const deleted = await cli(["instances", "delete", instanceId, "--json"]);
    expect(["deleting", "deleted"]).toContain(deleted.json().status);
    const listed = await cli(["instances", "list", "--json"]);
    expect(listed.json().filter((i: any) => i.status === "running")).toEqual([]);
  });

  it("exits 5 when --wait runs out of time, and the instance is left to finish", async () => {
    const slow = await cli(["instances", "launch", "GPU.A100.1x", "--wait", "--timeout", "0", "--json"]);
    expect(slow.code).toBe(5);
    expect(JSON.parse(slow.stderr.trim().split("\n").at(-1)!)).toMatchObject({
      code: "WaitTimeoutError",
      exit_code: 5,
    });
  });

  it("exits 3 for an unknown instance and 2 for a usage mistake, with the command's help", async () => {
    const missing = await cli(["instances", "show", "no-such-instance"]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/not found \(NOT_FOUND, request id/);
    const typo = await cli(["instances", "list", "--stauts", "running"]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("unknown option --stauts");
    expect(typo.stderr).toContain("usage: gpuplane instances list");
    const noArg = await cli(["instances", "show"]);
    expect(noArg.code).toBe(2);
    expect(noArg.stderr).toContain("missing <id>");
  });

  it("manages volumes, the waitlist, API keys and webhooks, and reports usage per instance and day", async () => {
    const volume = (
      await cli(["volumes", "create", "--name", "data", "--size", "20", "--region", "FIN-01", "--json"])
    ).json();
    expect((await cli(["volumes", "list", "--json"])).json().map((v: any) => v.id)).toContain(volume.id);
    expect((await cli(["volumes", "rm", volume.id])).code).toBe(0);

    const entry = (await cli(["waitlist", "join", "1H100.80S.30V", "--region", "FIN-01", "--json"])).json();
    expect((await cli(["waitlist", "list"])).stdout).toContain(entry.id);
    expect((await cli(["waitlist", "leave", entry.id])).code).toBe(0);

    const key = await cli(["keys", "create", "--label", "ci", "--json"]);
    const created = key.json();
    const asNewKey = await cli(["whoami", "--json"], { GPUPLANE_URL: server.url, GPUPLANE_API_KEY: created.key });
    expect(asNewKey.json().key_id).toBe(created.id);
    expect((await cli(["keys", "rm", created.id])).code).toBe(0);

    const hook = (await cli(["webhooks", "create", "https://example.com/h", "--event", "instance.*", "--json"])).json();
    expect(hook.secret).toMatch(/^whsec_/);
    expect((await cli(["webhooks", "list"])).stdout).toMatch(/https:\/\/example.com\/h\s+instance\.\*/);
    expect((await cli(["webhooks", "rm", hook.id])).code).toBe(0);

    const usage = await cli(["usage", "--days", "7"]);
    expect(usage.code).toBe(0);
    expect(usage.stdout).toMatch(/^usage .* → .*: \$\d+\.\d{2}/);
    expect(usage.stdout).toMatch(/KIND\s+ID\s+TIME\s+AMOUNT/);
    expect(usage.stdout).toMatch(/DAY\s+TIME\s+AMOUNT/);
  });

  it("keeps several profiles: --profile picks one, and the root gpuplane binary runs the same commands", async () => {
    const login = await cli(["login", "--url", server.url, "--api-key", server.operatorKey, "--profile", "ops"]);
    expect(login.stdout).toContain('as operator (profile "ops"');
    const tenants = await runCli(["tenants", "list", "--json", "--profile", "ops"], { home, bin: "bin/gpuplane.mjs" });
    expect(tenants.code, tenants.stderr).toBe(0);
    expect(tenants.json().map((t: any) => t.id)).toContain(tenantId);
    const asCustomer = await cli(["whoami", "--json", "--profile", "default"]);
    expect(asCustomer.json().tenant_id).toBe(tenantId);
  });
});
