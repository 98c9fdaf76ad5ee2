import { eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { events, instances } from "../../src/db/schema/index.js";
import { describeEachDb } from "../helpers/harness.js";
import { customer } from "../instances/fixtures.js";
import { RunPodFake } from "./fakes/runpod.js";
import { connect, tick, view } from "./helpers.js";

const runpod = await new RunPodFake().start();
afterAll(() => runpod.stop());
// Every request gpuplane sent and every answer the fake gave held to the cloud's published contract.
afterEach(() => expect(runpod.violations).toEqual([]));

/** A pod's life on RunPod through its fake: late port mapping, a stop that wipes the disk, a new port on restart. */
describeEachDb(
  "resold RunPod",
  (h) => {
    beforeAll(() => {
      runpod.reset();
    });
    it("reports running only once port 22 is mapped, says a stop wipes the container disk, and follows the new port", async () => {
      await connect(h(), { runpod });
      const { key, sshKeyId } = await customer(h());
      const created = await h().post(
        "/api/v1/instances",
        { name: "pod", planId: "GPU.H100.1x", templateSlug: "pytorch-cuda", region: "EU-RO-1", sshKeyId },
        key,
      );
      expect(created.status).toBe(201);
      const id = created.body.data.id as string;
      await tick(h(), "provisioning");
      const [pod] = runpod.byName(`gp-${id}`);
      expect(pod).toMatchObject({ gpuTypeId: "NVIDIA H100 80GB HBM3", dataCenterId: "EU-RO-1" });
      expect(runpod.calls("POST", "/v2/pods")[0].body).toMatchObject({
        gpu: { id: "NVIDIA H100 80GB HBM3", count: 1 },
        cloud: "SECURE",
        dataCenterIds: ["EU-RO-1"],
        ports: ["22/tcp"],
        startSsh: true,
        env: { PUBLIC_KEY: expect.stringMatching(/^ssh-/) },
      });

      // The image is still pulled: no direct SSH endpoint, so not running (and not billed) here.
      h().clock.advance(10_000);
      await tick(h(), "status-sync");
      expect((await view(h(), id, key)).status).toBe("provisioning");

      h().clock.advance(20_000);
      await tick(h(), "status-sync");
      const running = await view(h(), id, key);
      expect(running).toMatchObject({ status: "running", sshPort: 40_000 });
      expect(running.sshCommand).toBe(`ssh -p 40000 root@${running.ipAddress}`);

      h().clock.advance(100_000);
      const stopped = await h().post(`/api/v1/instances/${id}/stop`, undefined, key);
      expect(stopped.status).toBe(200);
      expect(stopped.body.data.status).toBe("stopping");
      expect(stopped.body.data.statusReason).toMatch(/wipes its container disk/);
      await tick(h(), "status-sync"); // RunPod lists the pod EXITED: stopped, billed to the stop
      expect(await view(h(), id, key)).toMatchObject({
        status: "stopped",
        statusReason: expect.stringMatching(/wipes/),
      });

      const started = await h().post(`/api/v1/instances/${id}/start`, undefined, key);
      expect(started.status).toBe(200);
      expect(started.body.data.status).toBe("provisioning");
      h().clock.advance(5_000);
      await tick(h(), "status-sync");
      expect(await view(h(), id, key)).toMatchObject({ status: "running", sshPort: 40_001 });

      h().clock.advance(50_000);
      expect((await h().del(`/api/v1/instances/${id}`, key)).status).toBe(200);
      await tick(h(), "status-sync");
      expect((await view(h(), id, key)).status).toBe("deleted");
      // RunPod bills by the second from the create to the stop (130 s), then from the start to the delete (55 s).
      expect(runpod.billedSeconds(pod.id)).toBe(185);
    });

    it("fails over to the next offer when RunPod has no more of the type, and fails with the reasons when none is left", async () => {
      await connect(h(), { runpod });
      const { key, sshKeyId } = await customer(h());
      const created = await h().post(
        "/api/v1/instances",
        { name: "pod", planId: "GPU.H100.1x", templateSlug: "pytorch-cuda", sshKeyId },
        key,
      );
      expect(created.status).toBe(201);
      // Between the order and its launch the stock runs out, in every data center.
      runpod.setStock("NVIDIA H100 80GB HBM3", "NONE");
      const stats = await tick(h(), "provisioning");
      expect(stats).toMatchObject({ failed: 1, launched: 0 });
      const failed = await view(h(), created.body.data.id, key);
      expect(failed.status).toBe("failed");
      expect(failed.statusReason).toMatch(/EU-RO-1: .*no longer any instances available/);
      expect(failed.statusReason).toMatch(/US-KS-2: /);
      runpod.setStock("NVIDIA H100 80GB HBM3", "HIGH");
    });

    it("waits for capacity instead of failing when the customer asked for the waitlist, and launches once there is room", async () => {
      await connect(h(), { runpod });
      const { key, sshKeyId } = await customer(h());
      const created = await h().post(
        "/api/v1/instances",
        { name: "pod", planId: "GPU.H100.1x", templateSlug: "pytorch-cuda", sshKeyId, waitlist: true },
        key,
      );
      expect(created.status).toBe(201);
      const id = created.body.data.id as string;
      runpod.setStock("NVIDIA H100 80GB HBM3", "NONE");
      expect(await tick(h(), "provisioning")).toMatchObject({ waitlisted: 1, failed: 0, launched: 0 });
      const waiting = await view(h(), id, key);
      expect(waiting.status).toBe("ordered");
      expect(waiting.statusReason).toMatch(/waiting for capacity .*EU-RO-1: .*no longer any instances available/);
      expect(runpod.byName(`gp-${id}`)).toHaveLength(0);

      // Not before its retry time, then launched once RunPod has H100s again.
      runpod.setStock("NVIDIA H100 80GB HBM3", "HIGH");
      expect(await tick(h(), "provisioning")).toMatchObject({ launched: 0 });
      h().clock.advance(61_000);
      expect(await tick(h(), "provisioning")).toMatchObject({ launched: 1 });
      expect((await view(h(), id, key)).status).toBe("provisioning");
      expect(runpod.byName(`gp-${id}`)).toHaveLength(1);
    });

    it("a stop or start RunPod refuses puts the pod back, and tells webhooks the state it is back in", async () => {
      await connect(h(), { runpod });
      const { key, sshKeyId, tenantId } = await customer(h());
      const created = await h().post(
        "/api/v1/instances",
        { name: "pod", planId: "GPU.H100.1x", templateSlug: "pytorch-cuda", region: "EU-RO-1", sshKeyId },
        key,
      );
      const id = created.body.data.id as string;
      await tick(h(), "provisioning");
      h().clock.advance(31_000);
      await tick(h(), "status-sync");
      expect((await view(h(), id, key)).status).toBe("running");
      const eventsSince = async (after: number) =>
        (await h().ctx.db.select().from(events).where(eq(events.tenantId, tenantId)).orderBy(events.id))
          .slice(after)
          .map((e) => ({ type: e.type, data: e.data as any }));
      const before = (await eventsSince(0)).length;
      const run = async () =>
        (await h().ctx.db.select().from(instances).where(eq(instances.id, id))).map((i) => [
          i.runningSince,
          i.stoppedAt,
        ]);
      const runBefore = await run();

      // The stop is refused (RunPod answers 409: not valid for the pod now): 409 to the caller, the pod still running and billed, and after the
      // `instance.stopping` already sent, an `instance.running` saying why.
      runpod.fault({
        method: "POST",
        path: "/v2/pods/",
        answer: { status: 409, body: { title: "Conflict", status: 409, detail: "pod is locked" } },
      });
      const stop = await h().post(`/api/v1/instances/${id}/stop`, undefined, key);
      expect(stop.status).toBe(409);
      expect(stop.body.error).toMatch(/pod is locked/);
      const back = await view(h(), id, key);
      expect(back.status).toBe("running");
      expect(await run()).toEqual(runBefore); // the run goes on, billed as before: never closed nor reopened
      const afterStop = await eventsSince(before);
      expect(afterStop.map((e) => e.type)).toEqual(["instance.stopping", "instance.running"]);
      expect(afterStop[1].data).toMatchObject({
        status: "running",
        previous_status: "stopping",
        reverted: "stop",
        reason: expect.stringMatching(/^stop failed, back to running: .*pod is locked/),
      });

      // Stopped for real; then a start RunPod cannot take (5xx on every retry): 502, back to stopped, and said so.
      expect((await h().post(`/api/v1/instances/${id}/stop`, undefined, key)).status).toBe(200);
      await tick(h(), "status-sync");
      expect((await view(h(), id, key)).status).toBe("stopped");
      const beforeStart = (await eventsSince(0)).length;
      runpod.fault({
        method: "POST",
        path: `/v2/pods/`,
        answer: { status: 503, body: { title: "Service Unavailable", status: 503, detail: "upstream busy" } },
        times: 10,
      });
      const start = await h().post(`/api/v1/instances/${id}/start`, undefined, key);
      expect(start.status).toBe(502);
      runpod.faults = [];
      expect((await view(h(), id, key)).status).toBe("stopped");
      const afterStart = await eventsSince(beforeStart);
      expect(afterStart.map((e) => e.type)).toEqual(["instance.provisioning", "instance.stopped"]);
      expect(afterStart[1].data).toMatchObject({ reverted: "start", reason: expect.stringMatching(/^start failed/) });

      // It starts when RunPod can.
      expect((await h().post(`/api/v1/instances/${id}/start`, undefined, key)).status).toBe(200);
      expect((await h().del(`/api/v1/instances/${id}`, key)).status).toBe(200);
      await tick(h(), "status-sync");
    });

    it("shows an offer available only where Secure Cloud has stock in that data center, as the launch needs", async () => {
      // Community Cloud has H100s everywhere; Secure Cloud, which gpuplane launches on, has none left in EU-RO-1.
      runpod.setStock("NVIDIA H100 80GB HBM3", "NONE", { cloud: "SECURE", dataCenter: "EU-RO-1" });
      await connect(h(), { runpod });
      const { key, sshKeyId } = await customer(h());
      const launches = runpod.calls("POST", "/v2/pods").length;
      const offers = (await h().get("/api/v1/gpus/available?gpu_model=H100", key)).body.data;
      const regions = offers.find((o: any) => o.cluster_type === "1H100.80S.30V").regions;
      expect(regions.find((r: any) => r.region === "EU-RO-1").available).toBe(false);
      expect(regions.find((r: any) => r.region === "US-KS-2").available).toBe(true);
      const refused = await h().post(
        "/api/v1/instances",
        { name: "pod", planId: "GPU.H100.1x", templateSlug: "pytorch-cuda", region: "EU-RO-1", sshKeyId },
        key,
      );
      expect(refused.status).toBe(409);
      expect(runpod.calls("POST", "/v2/pods")).toHaveLength(launches);
      runpod.restock();
    });

    it("a pod RunPod lists in a shape it does not know keeps its state while the other pods are still synced", async () => {
      await connect(h(), { runpod });
      const { key, sshKeyId } = await customer(h());
      const order = async (name: string) =>
        (
          await h().post(
            "/api/v1/instances",
            { name, planId: "GPU.H100.1x", templateSlug: "pytorch-cuda", region: "EU-RO-1", sshKeyId },
            key,
          )
        ).body.data.id as string;
      const [odd, other] = [await order("odd"), await order("other")];
      await tick(h(), "provisioning");
      h().clock.advance(31_000);
      await tick(h(), "status-sync");
      expect((await view(h(), odd, key)).status).toBe("running");
      expect((await view(h(), other, key)).status).toBe("running");
      // The other pod is stopped in RunPod's console; the odd one is listed with a status gpuplane has never seen.
      const otherPod = runpod.byName(`gp-${other}`)[0];
      await fetch(`${runpod.url}/v2/pods/${otherPod.id}/action`, {
        method: "POST",
        headers: { authorization: `Bearer ${runpod.apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({ action: "stop" }),
      });
      const listed = await (
        await fetch(`${runpod.url}/v2/pods`, { headers: { authorization: `Bearer ${runpod.apiKey}` } })
      ).json();
      const oddId = runpod.byName(`gp-${odd}`)[0].id;
      runpod.fault({
        method: "GET",
        path: "/v2/pods",
        offContract: true,
        answer: {
          status: 200,
          body: { pods: listed.pods.map((p: any) => (p.id === oddId ? { id: p.id, status: "MIGRATING" } : p)) },
        },
      });
      h().clock.advance(5_000);
      await tick(h(), "status-sync");
      // Not frozen: the stop is seen. Not taken as truth: the unreadable pod is neither lost nor changed.
      expect((await view(h(), other, key)).status).toBe("stopped");
      expect((await view(h(), odd, key)).status).toBe("running");
      // Read normally on the next pass.
      runpod.removeBehindBack(oddId);
      h().clock.advance(5_000);
      await tick(h(), "status-sync");
      expect((await view(h(), odd, key)).status).toBe("failed");
    });

    it("while RunPod cannot be listed, a delete whose call failed is still sent again: the pod stops billing", async () => {
      await connect(h(), { runpod });
      const { key, sshKeyId } = await customer(h());
      const created = await h().post(
        "/api/v1/instances",
        { name: "pod", planId: "GPU.H100.1x", templateSlug: "pytorch-cuda", region: "EU-RO-1", sshKeyId },
        key,
      );
      const id = created.body.data.id as string;
      await tick(h(), "provisioning");
      h().clock.advance(31_000);
      await tick(h(), "status-sync");
      expect((await view(h(), id, key)).status).toBe("running");
      const [pod] = runpod.byName(`gp-${id}`);
      const outage = { title: "Service Unavailable", status: 503, detail: "upstream connect error" };
      // RunPod's list fails from now on, and the delete's own call fails on every retry.
      runpod.fault({ method: "GET", path: "/v2/pods", answer: { status: 503, body: outage }, times: 1000 });
      runpod.fault({ method: "DELETE", path: "/v2/pods/", answer: { status: 503, body: outage }, times: 3 });
      const deleting = await h().del(`/api/v1/instances/${id}`, key);
      expect(deleting.status).toBe(200);
      expect(deleting.body.data.status).toBe("deleting");
      expect(runpod.pods.get(pod.id)!.status).toBe("RUNNING");
      // The list still fails, but the delete is sent again after 30 s, as it is when the pod can be seen.
      h().clock.advance(31_000);
      await tick(h(), "status-sync");
      expect(runpod.pods.get(pod.id)!.status).toBe("TERMINATED");
      expect((await view(h(), id, key)).status).toBe("deleting"); // unknown is not gone: confirmed by a list
      runpod.faults = [];
      h().clock.advance(5_000);
      await tick(h(), "status-sync");
      expect((await view(h(), id, key)).status).toBe("deleted");
    });

    it("refuses a pod with a volume: RunPod does not carry gpuplane volumes", async () => {
      await connect(h(), { runpod });
      const { key, sshKeyId } = await customer(h());
      const volume = await h().post("/api/v1/volumes", { name: "data", size_gb: 50, region: "EU-RO-1" }, key);
      expect(volume.status).toBe(201);
      const created = await h().post(
        "/api/v1/instances",
        {
          name: "pod",
          planId: "GPU.H100.1x",
          templateSlug: "pytorch-cuda",
          region: "EU-RO-1",
          sshKeyId,
          volumeIds: [volume.body.data.id],
        },
        key,
      );
      expect(created.status).toBe(400);
      expect(created.body.error).toMatch(/runpod here cannot carry volume/);
      expect((await h().get(`/api/v1/volumes/${volume.body.data.id}`, key)).body.data.status).toBe("available");
    });
  },
  {
    manualClock: true,
    env: {
      GPUPLANE_SIMULATOR: "off",
      ...runpod.env(),
    },
  },
);
