import { expect, it } from "vitest";
import { describeEachDb } from "../helpers/harness.js";
import { addCluster, addNode, job, pass, submit } from "../jobs/fleet-fixture.js";

/** gpuplane says running (and bills) only when something runs: for a job with a command, that is an agent's word. */
describeEachDb("truth on the server", (h) => {
  it("a job with a command on a node without an agent waits, scheduled and unbilled; a job with none runs", async () => {
    const cluster = await addCluster(h());
    await addNode(h(), cluster, 2);
    const tracked = await submit(h(), { cluster_id: cluster });
    const executable = await submit(h(), { cluster_id: cluster, command: "python train.py", image: "docker.io/a/b:1" });
    await pass(h());
    expect(await job(h(), tracked.id)).toMatchObject({ status: "running" });
    const waiting = await job(h(), executable.id);
    expect(waiting).toMatchObject({ status: "scheduled", started_at: null, image: "docker.io/a/b:1" });
  });

  it("a job's image must be an image reference, never something the runtime would read as a flag", async () => {
    const cluster = await addCluster(h());
    for (const image of ["--privileged", "a b", ""]) {
      const res = await h().post("/api/v1/jobs", { cluster_id: cluster, name: "x", command: "true", image });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatch(/image/);
    }
  });
});
