import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { LambdaCloud } from "../../src/providers/lambda/index.js";
import { CircuitBreaker } from "../../src/providers/upstream/breaker.js";
import { keyName } from "../../src/providers/upstream/http.js";
import { sshPublicKey } from "../instances/fixtures.js";
import { lambdaContract } from "./contracts/lambda.js";
import { LambdaFake } from "./fakes/lambda.js";

const lambda = await new LambdaFake().start();
afterAll(() => lambda.stop());

/** An adapter on the fake's account: a fresh one is what a restart or a second replica has. */
const adapter = (pacing: { requestIntervalMs?: number; launchIntervalMs?: number } = {}) =>
  new LambdaCloud({
    apiKey: lambda.apiKey,
    baseUrl: lambda.url,
    breaker: new CircuitBreaker(Date.now),
    requestIntervalMs: pacing.requestIntervalMs ?? 0,
    launchIntervalMs: pacing.launchIntervalMs ?? 0,
  });
const launch = (cloud: LambdaCloud, keys: string[], name = "gp-inst_rules") =>
  cloud.launch({
    name,
    upstreamType: "gpu_1x_h100_pcie",
    upstreamRegion: "us-east-1",
    image: "lambda-stack-22-04",
    sshPublicKeys: keys,
  });

/** Lambda's own rules (OpenAPI 1.10.0, SkyPilot's reading of its limits and errors), against its contract-held fake. */
describe("Lambda's rules", () => {
  beforeEach(() => lambda.reset());
  afterEach(() => expect(lambda.violations).toEqual([]));

  it("holds the fake to Lambda's contract: a launch with two key names is refused as Lambda refuses it", async () => {
    expect(lambda.contract).toBe(lambdaContract);
    const res = await fetch(`${lambda.url}/instance-operations/launch`, {
      method: "POST",
      headers: { authorization: `Bearer ${lambda.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({
        region_name: "us-east-1",
        instance_type_name: "gpu_1x_h100_pcie",
        ssh_key_names: ["a", "b"],
      }),
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatchObject({
      code: "global/invalid-parameters",
      message: expect.stringMatching(/exactly one SSH key/),
    });
    expect(lambda.violations.splice(0)).toHaveLength(1);
  });

  it("launches an instance with two keys: the first by name, the second by cloud-init user data", async () => {
    const [first, second] = [sshPublicKey("ed25519", 0, "alice@laptop"), sshPublicKey("ed25519", 0, "bob@desk")];
    const id = await launch(adapter(), [first, second]);
    const [sent] = lambda.calls("POST", "/instance-operations/launch");
    expect(sent.body.ssh_key_names).toEqual([keyName(first)]);
    expect(lambda.sshKeys.get(keyName(first))).toBe(first);
    expect(lambda.sshKeys.size).toBe(1);
    const userData = lambda.instances.get(id)!.userData!;
    expect(userData.split("\n")[0]).toBe("#cloud-config");
    expect(userData).toContain(`  - ${JSON.stringify(second)}`);
    expect(userData).not.toContain(first);
  });

  it("finds a key an earlier run or another replica registered by reading the account, and never registers it twice", async () => {
    const key = sshPublicKey();
    // Registered before this process started (a restart), under gpuplane's name for it.
    lambda.sshKeys.set(keyName(key), key);
    await launch(adapter(), [key], "gp-inst_a");
    // A second replica (a fresh adapter, nothing in memory) launches with the same key.
    await launch(adapter(), [key], "gp-inst_b");
    expect(lambda.calls("POST", "/ssh-keys")).toHaveLength(0);
    expect(lambda.calls("POST", "/instance-operations/launch").map((c) => c.body.ssh_key_names)).toEqual([
      [keyName(key)],
      [keyName(key)],
    ]);
  });

  it("uses a key added by hand under its own name, and reads back a name another replica took meanwhile", async () => {
    const mine = sshPublicKey("ed25519", 0, "ops@console");
    lambda.sshKeys.set("ops-laptop", mine);
    await launch(adapter(), [mine], "gp-inst_c");
    expect(lambda.calls("POST", "/instance-operations/launch")[0].body.ssh_key_names).toEqual(["ops-laptop"]);

    // Between this replica's read and its registration, another registers the same key: Lambda answers
    // "Key name must be unique", and the name is read back instead of failing the launch.
    const raced = sshPublicKey();
    lambda.onRequest = (method, path) => {
      if (method === "POST" && path === "/ssh-keys") lambda.sshKeys.set(keyName(raced), raced);
    };
    const before = lambda.calls("GET", "/ssh-keys").length;
    await launch(adapter(), [raced], "gp-inst_d");
    expect(lambda.calls("POST", "/ssh-keys").at(-1)!.body.name).toBe(keyName(raced));
    expect(lambda.calls("GET", "/ssh-keys").length - before).toBe(2);
    expect(lambda.calls("POST", "/instance-operations/launch").at(-1)!.body.ssh_key_names).toEqual([keyName(raced)]);
  });

  it("refuses a launch without a key, saying Lambda takes exactly one", async () => {
    await expect(launch(adapter(), [])).rejects.toThrow(/exactly one SSH key/);
    expect(lambda.calls("POST", "/instance-operations/launch")).toHaveLength(0);
  });

  it("keeps to Lambda's limits itself (1 request/s, 1 launch per 12 s, scaled down): no request answered 429", async () => {
    // The fake refuses past 200 ms between requests and 700 ms between launches; the adapter paces at 300 and 1,000.
    lambda.limitRequests(200);
    lambda.limitLaunches(700);
    const cloud = adapter({ requestIntervalMs: 300, launchIntervalMs: 1_000 });
    const key = sshPublicKey();
    const ids = await Promise.all([
      launch(cloud, [key], "gp-inst_p1"),
      launch(cloud, [key], "gp-inst_p2"),
      launch(cloud, [key], "gp-inst_p3"),
      cloud.list(),
    ]);
    expect(lambda.rateLimited).toBe(0);
    expect(ids.slice(0, 3).every((id) => typeof id === "string")).toBe(true);
    const at = lambda
      .calls("POST", "/instance-operations/launch")
      .map((c) => c.at)
      .sort((a, b) => a - b);
    expect(at).toHaveLength(3);
    expect(at[1] - at[0]).toBeGreaterThanOrEqual(700);
    expect(at[2] - at[1]).toBeGreaterThanOrEqual(700);
  });

  it("reads each type's GPU memory and form factor from Lambda's description, and lists a booting instance without an IP", async () => {
    const cloud = adapter();
    const types = await cloud.types();
    expect(types.find((t) => t.upstreamType === "gpu_1x_h100_pcie")).toMatchObject({
      gpuModel: "H100",
      gpuMemoryGb: 80,
      formFactor: "PCIe",
      pricePerHourMicros: 2_490_000n,
    });
    expect(types.find((t) => t.upstreamType === "gpu_8x_h100_sxm5")).toMatchObject({
      gpuCount: 8,
      gpuMemoryGb: 80,
      formFactor: "SXM",
    });
    const id = await launch(cloud, [sshPublicKey()]);
    expect((await cloud.list()).find((i) => i.id === id)).toMatchObject({
      status: "booting",
      state: "pending",
      ipAddress: null,
      sshPort: null,
    });
  });
});
