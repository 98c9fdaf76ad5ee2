import { expect, it } from "vitest";
import { describeOneDb } from "../helpers/harness.js";
import { customer, syncStatus } from "../instances/fixtures.js";

/**
 * The instances API's quickstart (camelCase routes, plan ids), request by request, with only the base URL and the key
 * changed: list instances, create one (planId, templateSlug, sshKeyId), check the balance, stop it.
 */
describeOneDb(
  "instances quickstart",
  (h) => {
    it("runs as written with Authorization: Bearer", async () => {
      const { key, sshKeyId } = await customer(h());
      const bearer = { authorization: `Bearer ${key}` };
      const call = (method: string, path: string, body?: unknown) =>
        h().request(method, path, { key: null, headers: bearer, body });

      // List your instances
      const listed = await call("GET", "/api/v1/instances");
      expect(listed.status).toBe(200);
      expect(listed.body).toMatchObject({ code: "OK", data: [], meta: { total: 0, has_more: false } });

      // Create a new GPU instance
      const created = await call("POST", "/api/v1/instances", {
        name: "training-run-01",
        planId: "GPU.H100.1x",
        templateSlug: "pytorch-cuda",
        sshKeyId,
      });
      expect(created.status).toBe(201);
      expect(created.body.data).toMatchObject({
        name: "training-run-01",
        planId: "GPU.H100.1x",
        clusterType: "1H100.80S.30V",
        templateSlug: "pytorch-cuda",
        sshKeyId,
        status: "provisioning",
        gpuType: "H100",
        gpuCount: 1,
        pricePerHour: "2.490000",
        pricePerHourUsd: 2.49,
      });
      const id = created.body.data.id as string;

      // Check your credit balance
      const balance = await call("GET", "/api/v1/billing/balance");
      expect(balance.status).toBe(200);
      expect(balance.body.data.balance_usd).toBeGreaterThan(20);

      // Stop an instance: pasted right away it is still provisioning, and stop cancels that.
      const stopped = await call("POST", `/api/v1/instances/${id}/stop`);
      expect(stopped.status).toBe(200);
      expect(stopped.body.data.status).toBe("stopped");
    });

    it("stops a running instance that has an IP and an ssh command", async () => {
      const { key, sshKeyId } = await customer(h());
      const created = await h().post(
        "/api/v1/instances",
        { name: "run-02", planId: "GPU.H100.1x", templateSlug: "pytorch-cuda", sshKeyId },
        key,
      );
      await syncStatus(h());
      const running = await h().get(`/api/v1/instances/${created.body.data.id}`, key);
      expect(running.body.data.status).toBe("running");
      expect(running.body.data.sshCommand).toBe(`ssh -p 22 ubuntu@${running.body.data.ipAddress}`);
      const stopped = await h().post(`/api/v1/instances/${created.body.data.id}/stop`, undefined, key);
      expect(stopped.body.data).toMatchObject({ status: "stopped", ipAddress: null, sshCommand: null });
    });
  },
  { manualClock: true },
);
