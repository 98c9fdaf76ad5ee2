import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { E2eCloud } from "../../src/providers/e2e/index.js";
import { CircuitBreaker } from "../../src/providers/upstream/breaker.js";
import { upstreamConfig } from "../../src/providers/upstream/config.js";
import { sshPublicKey } from "../instances/fixtures.js";
import { e2eContract } from "./contracts/e2e.js";
import { E2E_INR_PER_USD, E2eFake } from "./fakes/e2e.js";

const e2e = await new E2eFake().start();
afterAll(() => e2e.stop());

let clock = 1_767_225_600_000;
const adapter = (overrides: { apiKey?: string; authToken?: string; inrPerUsd?: string | null } = {}) =>
  new E2eCloud({
    apiKey: overrides.apiKey ?? e2e.apiKey,
    authToken: overrides.authToken ?? e2e.authToken,
    projectId: e2e.projectId,
    locations: ["Delhi", "Mumbai"],
    inrPerUsd: overrides.inrPerUsd === null ? undefined : (overrides.inrPerUsd ?? E2E_INR_PER_USD),
    baseUrl: e2e.url,
    breaker: new CircuitBreaker(() => clock),
  });
const H100 = "GDC3.H100-1x";
const request = (name = "gp-inst_e2e", location = "Delhi") => ({
  name,
  upstreamType: H100,
  upstreamRegion: location,
  image: "Ubuntu-22.04-Distro",
  sshPublicKeys: [sshPublicKey(), sshPublicKey()],
});

/** E2E's MyAccount API as e2ectl 0.6.1 calls it, against its contract-held fake. */
describe("E2E Networks' rules", () => {
  beforeEach(() => {
    e2e.reset();
    e2e.now = () => clock;
  });
  afterEach(() => expect(e2e.violations).toEqual([]));

  it("authenticates as e2ectl does: apikey, project and location in the query, the auth token as a bearer", async () => {
    expect(e2e.contract).toBe(e2eContract);
    const types = await adapter().types();
    const [sent] = e2e.calls("GET", "/images/");
    const query = new URLSearchParams(sent.path.split("?")[1]);
    expect(Object.fromEntries(query)).toMatchObject({
      apikey: e2e.apiKey,
      project_id: e2e.projectId,
      location: "Delhi",
      display_category: "GPU",
      os: "Ubuntu",
      osversion: "22.04",
    });
    expect(sent.authorization).toBe(`Bearer ${e2e.authToken}`);
    expect(types.map((t) => `${t.upstreamType}@${t.upstreamRegion}`).sort()).toEqual([
      "GDC3.A100-2x@Delhi",
      "GDC3.A100-2x@Mumbai",
      "GDC3.H100-1x@Delhi",
      "GDC3.H100-1x@Mumbai",
    ]);
    // A query without the API key is off the contract: refused, and named.
    const bare = await fetch(`${e2e.url}/nodes/?project_id=${e2e.projectId}&location=Delhi`, {
      headers: { authorization: `Bearer ${e2e.authToken}` },
    });
    expect(bare.status).toBe(400);
    expect(e2e.violations.splice(0).join()).toMatch(/query apikey/);
  });

  it("a wrong API key answers HTTP 200 with a 401 envelope: an auth error, not an empty list; a wrong token a 403", async () => {
    await expect(adapter({ apiKey: "e2e-wrong" }).list()).rejects.toMatchObject({
      kind: "auth",
      message: expect.stringMatching(/401: Unauthorized \(HTTP 200\)/),
    });
    await expect(adapter({ authToken: "wrong" }).types()).rejects.toMatchObject({
      kind: "auth",
      message: expect.stringMatching(/Authentication credentials were not provided/),
    });
  });

  it("reads the GPU, stock per location and the price in INR converted at the operator's rate, rounded up", async () => {
    e2e.setInventory("Mumbai", H100, 0);
    const types = await adapter().types();
    const h100 = (l: string) => types.find((t) => t.upstreamType === H100 && t.upstreamRegion === l)!;
    // ₹249/h at ₹83 to the dollar: $3.00 exactly.
    expect(h100("Delhi")).toMatchObject({
      gpuModel: "H100",
      gpuCount: 1,
      gpuMemoryGb: 80,
      formFactor: "SXM",
      vcpus: 30,
      ramGb: 250,
      pricePerHourMicros: 3_000_000n,
      available: true,
    });
    expect(h100("Mumbai").available).toBe(false);
    // ₹340/h → $4.096385…: rounded up, never below E2E's price.
    const a100 = types.find((t) => t.upstreamType === "GDC3.A100-2x")!;
    expect(a100).toMatchObject({ gpuCount: 2, formFactor: "PCIe", pricePerHourMicros: 4_096_386n });
    // Without a rate an INR price cannot be sold: refused with what to set.
    await expect(adapter({ inrPerUsd: null }).types()).rejects.toThrow(/GPUPLANE_E2E_INR_PER_USD/);
  });

  it("creates one node with the plan and image of the OS row and the customer's keys, and follows it to Running", async () => {
    const cloud = adapter();
    const id = await cloud.launch(request());
    expect(id).toMatch(/^\d+@Delhi$/);
    const [sent] = e2e.calls("POST", "/nodes/");
    expect(sent.body).toMatchObject({
      name: "gp-inst_e2e",
      plan: "GDC3-30vCPU-250RAM-1000DISK-GDC3.H100-1x-Ubuntu-22.04-Delhi",
      image: "Ubuntu-22.04-Distro",
      number_of_instances: 1,
      ssh_keys: [expect.stringMatching(/^ssh-ed25519 /), expect.stringMatching(/^ssh-ed25519 /)],
      disable_password: true,
    });
    const seen = async () => (await cloud.list()).find((n) => n.id === id)!;
    expect(await seen()).toMatchObject({ status: "Creating", state: "pending", ipAddress: null });
    clock += e2e.bootMs;
    expect(await seen()).toMatchObject({ status: "Running", state: "running", sshPort: 22, sshUser: "root" });
    await cloud.stop(id);
    expect(await seen()).toMatchObject({ status: "Powered off", state: "stopped" });
    expect(e2e.calls("PUT", `/nodes/${id.split("@")[0]}/actions/`)[0].body).toEqual({ type: "power_off" });
    await cloud.start(id);
    expect(await seen()).toMatchObject({ state: "running" });
    await cloud.terminate([id]);
    expect(await seen()).toBeUndefined();
    // Deleting a node already gone is done, not an error.
    await cloud.terminate([id]);
  });

  it("an error inside an HTTP 200 is an error: too little credit is a refusal, and nothing was created", async () => {
    e2e.credit = false;
    await expect(adapter().launch(request())).rejects.toMatchObject({
      kind: "rejected",
      message: expect.stringMatching(/Insufficient credit .*\(HTTP 200\)/),
    });
    expect(e2e.live()).toHaveLength(0);
    // A power action the node's state refuses comes inside a 200 too, and is an error.
    e2e.credit = true;
    const id = await adapter().launch(request());
    await expect(adapter().stop(id)).rejects.toMatchObject({ message: expect.stringMatching(/Creating state/) });
  });

  it("a multi-node create that partly succeeds returns every node it made and says why the rest were not", async () => {
    e2e.setInventory("Delhi", H100, 2);
    const { ids, error } = await adapter().launchNodes(request("gp-inst_many"), 3);
    expect(ids).toHaveLength(2);
    expect(e2e.byName("gp-inst_many").map((n) => `${n.id}@Delhi`)).toEqual(ids);
    expect(error).toMatchObject({ kind: "capacity", message: expect.stringMatching(/created 2 of 3 nodes/) });
    // Out of inventory now: a single launch is a capacity refusal (the plan says so before the create is sent).
    await expect(adapter().launch(request("gp-inst_one"))).rejects.toMatchObject({ kind: "capacity" });
    // And if the plan still said yes when the create found none (the last node taken meanwhile): capacity, nothing made.
    e2e.setInventory("Mumbai", H100, 1);
    await adapter().launch(request("gp-inst_m1", "Mumbai"));
    e2e.fault({
      method: "GET",
      path: "/images/",
      answer: {
        status: 200,
        body: {
          code: 200,
          data: (await (await fetch(`${e2e.url}/images/?${planQuery("Delhi")}`, auth())).json()).data.map(
            (p: { location: string; plan: string }) => ({
              ...p,
              location: "Mumbai",
              plan: p.plan.replace("Delhi", "Mumbai"),
              available_inventory_status: true,
            }),
          ),
          errors: {},
          message: "Success",
        },
      },
    });
    await expect(adapter().launch(request("gp-inst_m2", "Mumbai"))).rejects.toMatchObject({
      kind: "capacity",
      message: expect.stringMatching(/created 0 of 1 nodes: .*out of inventory/),
    });
    expect(e2e.byName("gp-inst_m2")).toHaveLength(0);
  });

  it("declares E2E's billing rule: hourly from the create to the delete, full price while powered off", async () => {
    const cloud = adapter();
    expect(cloud.billing).toMatchObject({
      startsAt: "launch",
      endsAt: "call",
      whileStopped: "full",
      incrementSeconds: 3_600,
      minimumSeconds: 0,
    });
    expect(cloud.billing.source).toMatch(/docs\.e2enetworks\.com/);
    // The fake bills as the rule says: 61 minutes, half of them powered off, are two full hours.
    const id = await cloud.launch(request());
    clock += e2e.bootMs;
    await cloud.stop(id);
    clock += 3_600_000;
    await cloud.terminate([id]);
    expect(e2e.chargeInr(Number(id.split("@")[0]))).toBe(2 * 249);
  });
});

function planQuery(location: string) {
  return new URLSearchParams({
    apikey: e2e.apiKey,
    project_id: e2e.projectId,
    location,
    display_category: "GPU",
    category: "Ubuntu",
    os: "Ubuntu",
    osversion: "22.04",
  });
}

function auth() {
  return { headers: { authorization: `Bearer ${e2e.authToken}` } };
}

describe("E2E Networks' settings", () => {
  it("is configured only with key, token and project; a rate that is not a number is refused by name", () => {
    const all = { GPUPLANE_E2E_API_KEY: "k", GPUPLANE_E2E_AUTH_TOKEN: "t", GPUPLANE_E2E_PROJECT_ID: "1" };
    expect(upstreamConfig({ GPUPLANE_E2E_API_KEY: "k" }).credentials.e2e).toBeUndefined();
    expect(upstreamConfig({ ...all, GPUPLANE_E2E_LOCATIONS: "Delhi, Mumbai" }).credentials.e2e).toMatchObject({
      locations: ["Delhi", "Mumbai"],
      os: "Ubuntu 22.04",
    });
    expect(() => upstreamConfig({ ...all, GPUPLANE_E2E_INR_PER_USD: "eighty" })).toThrow(
      /GPUPLANE_E2E_INR_PER_USD: must be a decimal number of rupees per US dollar/,
    );
  });
});
