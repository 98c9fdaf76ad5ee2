import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { CircuitBreaker } from "../../src/providers/upstream/breaker.js";
import { instanceIdFromTag } from "../../src/providers/upstream/types.js";
import { VerdaCloud } from "../../src/providers/verda/index.js";
import { sshPublicKey } from "../instances/fixtures.js";
import { VERDA_HOSTNAME, verdaContract } from "./contracts/verda.js";
import { VerdaFake } from "./fakes/verda.js";

const verda = await new VerdaFake().start();
afterAll(() => verda.stop());

let clock = 1_767_225_600_000;
const adapter = () =>
  new VerdaCloud({
    clientId: verda.clientId,
    clientSecret: verda.clientSecret,
    baseUrl: verda.url,
    breaker: new CircuitBreaker(() => clock),
  });
const TAG = "gp-inst_01jd5x3k9q7w2mz8c4v6b0n1ta";
const launch = (cloud: VerdaCloud, extra: { volumeIds?: string[] } = {}) =>
  cloud.launch({
    name: TAG,
    upstreamType: "1H100.80S.30V",
    upstreamRegion: "FIN-01",
    image: "ubuntu-22.04-cuda-12.4-docker",
    sshPublicKeys: [sshPublicKey()],
    ...extra,
  });

/** Verda's API as its official SDKs and CLI state it (test/providers/contracts/verda.ts), against its contract-held fake. */
describe("Verda's rules", () => {
  beforeEach(() => {
    verda.reset();
    verda.now = () => clock;
  });
  afterEach(() => expect(verda.violations).toEqual([]));

  it("holds the fake to Verda's contract: a hostname with an underscore is an invalid_request that names it", async () => {
    expect(verda.contract).toBe(verdaContract);
    const token = await (
      await fetch(`${verda.url}/oauth2/token`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          grant_type: "client_credentials",
          client_id: verda.clientId,
          client_secret: verda.clientSecret,
        }),
      })
    ).json();
    const res = await fetch(`${verda.url}/instances`, {
      method: "POST",
      headers: { authorization: `Bearer ${token.access_token}`, "content-type": "application/json" },
      body: JSON.stringify({
        instance_type: "1H100.80S.30V",
        image: "ubuntu-22.04-cuda-12.4-docker",
        hostname: TAG,
        description: TAG,
        location_code: "FIN-01",
      }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "invalid_request", message: expect.stringMatching(/hostname/) });
    expect(verda.instances.size).toBe(0);
    expect(verda.violations.splice(0).join()).toMatch(/hostname/);
  });

  it("launches with a hostname of letters, digits and hyphens that still carries gpuplane's tag, and lists it under the tag", async () => {
    const cloud = adapter();
    const id = await launch(cloud);
    const [sent] = verda.calls("POST", "/instances");
    expect(sent.body.hostname).toMatch(VERDA_HOSTNAME);
    expect(sent.body.hostname).toBe("gp-inst-01jd5x3k9q7w2mz8c4v6b0n1ta");
    // Adoption and the orphan sweep read the tag back from the list.
    const listed = (await cloud.list()).find((i) => i.id === id)!;
    expect(listed.name).toBe(TAG);
    expect(instanceIdFromTag(listed.name)).toBe("inst_01jd5x3k9q7w2mz8c4v6b0n1ta");
  });

  it("pins the fixed price offers are sold from: Verda bills the launched instance at price_per_hour, not its dynamic price", async () => {
    const cloud = adapter();
    const offer = (await cloud.types()).find(
      (t) => t.upstreamType === "1H100.80S.30V" && t.upstreamRegion === "FIN-01",
    )!;
    expect(offer.pricePerHourMicros).toBe(2_190_000n);
    const id = await launch(cloud);
    expect(verda.calls("POST", "/instances")[0].body.pricing).toBe("FIXED_PRICE");
    expect(verda.instances.get(id)).toMatchObject({ pricing: "FIXED_PRICE", pricePerHour: "2.19" });
    clock += 3_600_000;
    expect(verda.charge(id)).toBe(offer.pricePerHourMicros);
  });

  it("reads prices in USD whatever the account's currency (currency=usd)", async () => {
    verda.accountCurrency = "eur";
    const types = await adapter().types();
    expect(verda.calls("GET", "/instance-types")[0].path).toMatch(/[?&]currency=usd/);
    expect(types.find((t) => t.upstreamType === "1H100.80S.30V")!.pricePerHourMicros).toBe(2_190_000n);
    expect(types.find((t) => t.upstreamType === "1A100.22V")!.pricePerHourMicros).toBe(1_290_000n);
  });

  it("a delete names the OS volume, which goes with the instance for good; a customer's volume is kept", async () => {
    const cloud = adapter();
    const disk = await cloud.volumes!.create({ name: "gp-vol_1", sizeGb: 100, type: "nvme", location: "FIN-01" });
    const id = await launch(cloud, { volumeIds: [disk] });
    const os = verda.instances.get(id)!.osVolumeId;
    clock += verda.provisionMs;
    await cloud.terminate([id]);
    const [del] = verda.calls("PUT", "/instances");
    expect(del.body).toEqual({ id: [id], action: "delete", volume_ids: [os], delete_permanently: true });
    expect(verda.volumes.has(os)).toBe(false);
    expect(verda.trash.has(os)).toBe(false);
    expect(verda.volumes.get(disk)).toMatchObject({ status: "detached", instance_id: null });
    expect(await cloud.volumes!.list!()).toEqual([
      expect.objectContaining({ id: disk, name: "gp-vol_1", isOsVolume: false, instanceId: null }),
    ]);
  });

  it("an action answered with a failed result for an instance is that instance's refusal, not done", async () => {
    const cloud = adapter();
    const id = await launch(cloud);
    clock += verda.provisionMs;
    verda.fault({
      method: "PUT",
      path: "/instances",
      answer: {
        status: 207,
        body: [{ action: "shutdown", instanceId: id, status: "error", error: "Can't shutdown now", statusCode: 400 }],
      },
    });
    await expect(cloud.stop(id)).rejects.toMatchObject({
      kind: "rejected",
      message: expect.stringMatching(/Can't shutdown now/),
    });
    verda.fault({
      method: "PUT",
      path: "/instances",
      answer: {
        status: 207,
        body: [{ action: "delete", instanceId: id, status: "error", error: "Invalid instance id", statusCode: 404 }],
      },
    });
    await expect(cloud.terminate([id])).rejects.toMatchObject({ kind: "gone" });
  });

  it("declares Verda's billing rule: from the create, full price while shut down, until deleted; the fake charges so", async () => {
    const cloud = adapter();
    expect(cloud.billing).toMatchObject({ startsAt: "launch", endsAt: "gone", whileStopped: "full" });
    expect(cloud.billing.source).toMatch(/shutdown-hibernate-and-delete/);
    expect(cloud.stopNote).toMatch(/keeps charging/);
    const id = await launch(cloud);
    clock += verda.provisionMs;
    await cloud.stop(id);
    clock += 3_600_000 - verda.provisionMs;
    // An hour from the create, 58.5 minutes of it shut down: all of it charged.
    expect(verda.charge(id)).toBe(2_190_000n);
    await cloud.terminate([id]);
    clock += 3_600_000;
    expect(verda.charge(id)).toBe(2_190_000n);
  });
});
