import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { RunPodCloud } from "../../src/providers/runpod/index.js";
import { CircuitBreaker } from "../../src/providers/upstream/breaker.js";
import { sshPublicKey } from "../instances/fixtures.js";
import { runpodContract } from "./contracts/runpod.js";
import { RunPodFake } from "./fakes/runpod.js";

const runpod = await new RunPodFake().start();
afterAll(() => runpod.stop());

const H100 = "NVIDIA H100 80GB HBM3";
let clock = 1_767_225_600_000;
const adapter = (cloudType?: "SECURE" | "COMMUNITY") =>
  new RunPodCloud({
    apiKey: runpod.apiKey,
    baseUrl: runpod.url,
    dataCenters: ["EU-RO-1", "US-KS-2"],
    cloudType,
    breaker: new CircuitBreaker(() => clock),
  });
const launch = (cloud: RunPodCloud, region = "EU-RO-1", name = "gp-inst_pod") =>
  cloud.launch({
    name,
    upstreamType: H100,
    upstreamRegion: region,
    image: "runpod/pytorch:2.4.0-py3.11-cuda12.4.1-devel-ubuntu22.04",
    sshPublicKeys: [sshPublicKey()],
  });

/** RunPod's REST API v2 as its OpenAPI document and docs describe it, against its contract-held fake. */
describe("RunPod's rules", () => {
  beforeEach(() => {
    runpod.reset();
    runpod.now = () => clock;
  });
  afterEach(() => expect(runpod.violations).toEqual([]));

  it("holds the fake to RunPod's v2 contract: a v1 path is not found, a v1 body is a 422 problem", async () => {
    expect(runpod.contract).toBe(runpodContract);
    const call = (method: string, path: string, body?: unknown) =>
      fetch(`${runpod.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${runpod.apiKey}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const v1 = await call("GET", "/v1/pods");
    expect(v1.status).toBe(404);
    expect(await v1.json()).toMatchObject({ title: "Not Found", status: 404 });
    const flat = await call("POST", "/v2/pods", { name: "x", imageName: "ubuntu", gpuTypeIds: [H100], gpuCount: 1 });
    expect(flat.status).toBe(422);
    expect((await flat.json()).errors.join()).toMatch(/imageName|gpuTypeIds/);
    expect(runpod.violations.splice(0).length).toBeGreaterThan(0);
  });

  it("reads stock per data center and per cloud type: available only where the launch it makes can be placed", async () => {
    // Secure Cloud has no H100 in EU-RO-1 but has some in US-KS-2; Community Cloud has plenty in EU-RO-1.
    runpod.setStock(H100, "NONE", { cloud: "SECURE", dataCenter: "EU-RO-1" });
    const secure = await adapter().types();
    const h100 = (types: typeof secure, dc: string) =>
      types.find((t) => t.upstreamType === H100 && t.upstreamRegion === dc)!;
    // $2.99/h for the GPU and $0.006945/h for the 50 GB container disk at $0.10/GB/month, both billed while it runs.
    expect(h100(secure, "EU-RO-1")).toMatchObject({ available: false, pricePerHourMicros: 2_990_000n + 6_945n });
    expect(h100(secure, "US-KS-2")).toMatchObject({ available: true, gpuMemoryGb: 80, formFactor: "SXM" });
    expect(runpod.calls("GET", "/v2/catalog/gpus")[0].path).toMatch(/cloud=SECURE/);
    // What it says is what the launch finds: refused in EU-RO-1, placed in US-KS-2.
    await expect(launch(adapter(), "EU-RO-1")).rejects.toMatchObject({ kind: "capacity" });
    const id = await launch(adapter(), "US-KS-2");
    expect(runpod.pods.get(id)).toMatchObject({ dataCenterId: "US-KS-2", cloud: "SECURE" });

    // An operator selling Community Cloud sees its stock and its price, and launches there.
    const community = await adapter("COMMUNITY").types();
    expect(h100(community, "EU-RO-1")).toMatchObject({ available: true, pricePerHourMicros: 2_690_000n + 6_945n });
    const onCommunity = await launch(adapter("COMMUNITY"), "EU-RO-1", "gp-inst_c");
    expect(runpod.pods.get(onCommunity)).toMatchObject({ dataCenterId: "EU-RO-1", cloud: "COMMUNITY" });
  });

  it("creates with v2's nested body, trusts only the customer's keys, and is running only with a direct SSH endpoint", async () => {
    runpod.sshLagMs = 10_000;
    const cloud = adapter();
    const id = await launch(cloud);
    const [sent] = runpod.calls("POST", "/v2/pods");
    expect(sent.body).toMatchObject({
      gpu: { id: H100, count: 1 },
      cloud: "SECURE",
      dataCenterIds: ["EU-RO-1"],
      ports: ["22/tcp"],
      startSsh: true,
      env: { PUBLIC_KEY: expect.stringMatching(/^ssh-ed25519 /) },
    });
    const seen = async () => (await cloud.list()).find((p) => p.id === id)!;
    expect(await seen()).toMatchObject({ status: "PROVISIONING", state: "pending", ipAddress: null });
    clock += runpod.pullMs;
    // RUNNING, but without ssh.direct yet: not reachable, so not running.
    expect(await seen()).toMatchObject({ status: "RUNNING", state: "pending", sshPort: null });
    clock += 10_000;
    expect(await seen()).toMatchObject({ status: "RUNNING", state: "running", sshPort: 40_000, sshUser: "root" });
  });

  it("a pod it cannot read is listed as unknown, and the others are still read (one pod never freezes the list)", async () => {
    const cloud = adapter();
    const good = await launch(cloud);
    clock += runpod.pullMs;
    const listed = await (
      await fetch(`${runpod.url}/v2/pods`, { headers: { authorization: `Bearer ${runpod.apiKey}` } })
    ).json();
    // A new status this adapter has never seen, and a pod missing fields: RunPod may add either.
    runpod.fault({
      method: "GET",
      path: "/v2/pods",
      offContract: true,
      answer: {
        status: 200,
        body: { pods: [...listed.pods, { ...listed.pods[0], id: "odd1", status: "MIGRATING" }, { id: "odd2" }] },
      },
    });
    const pods = await cloud.list();
    expect(pods.find((p) => p.id === good)).toMatchObject({ state: "running" });
    expect(pods.find((p) => p.id === "odd1")).toMatchObject({ state: "unknown", status: "MIGRATING" });
    expect(pods.find((p) => p.id === "odd2")).toMatchObject({ state: "unknown" });
  });

  it("takes a 404 on delete as done only when a read of the pod says it is gone", async () => {
    const cloud = adapter();
    const id = await launch(cloud);
    clock += runpod.pullMs + 60_000;
    // The delete answers 404 (a lagging replica of RunPod's, a proxy) while the pod still runs and bills.
    runpod.fault({
      method: "DELETE",
      path: "/v2/pods/",
      answer: { status: 404, body: { title: "Not Found", status: 404, detail: "The requested Pod does not exist." } },
    });
    await expect(cloud.terminate([id])).rejects.toMatchObject({
      kind: "transient",
      message: expect.stringMatching(/404 but the pod is still RUNNING/),
    });
    expect(runpod.pods.get(id)!.status).toBe("RUNNING");
    expect(runpod.calls("GET", `/v2/pods/${id}`)).toHaveLength(1);
    // Sent again, it is done; a pod already gone (deleted twice) is done too, after its read says so.
    await cloud.terminate([id]);
    expect(runpod.pods.get(id)!.status).toBe("TERMINATED");
    await cloud.terminate([id]);
    expect(runpod.calls("GET", `/v2/pods/${id}`)).toHaveLength(2);
    // A 404 that is not RunPod's problem document (a retired path, a proxy page) is not "gone".
    const other = await launch(cloud, "EU-RO-1", "gp-inst_x");
    runpod.fault({
      method: "DELETE",
      path: "/v2/pods/",
      offContract: true,
      answer: { status: 404, text: "Not Found" },
    });
    await expect(cloud.terminate([other])).rejects.toMatchObject({ kind: "rejected" });
    expect(runpod.pods.get(other)!.status).not.toBe("TERMINATED");
  });

  it("declares RunPod's billing rule: by the second from the create; a stopped pod without a volume costs nothing", async () => {
    const cloud = adapter();
    expect(cloud.billing).toMatchObject({
      startsAt: "launch",
      whileStopped: "none",
      incrementSeconds: 1,
      minimumSeconds: 0,
    });
    // The fake bills as the rule says: from the create, through the pull, to the stop.
    const id = await launch(cloud);
    clock += 45_000;
    await cloud.stop(id);
    clock += 600_000;
    expect(runpod.billedSeconds(id)).toBe(45);
    expect(runpod.calls("POST", `/v2/pods/${id}/action`)[0].body).toEqual({ action: "stop" });
  });
});
