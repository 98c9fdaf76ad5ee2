import { expect, it } from "vitest";
import { waitlist } from "../../src/workers/waitlist.js";
import { describeEachDb } from "../helpers/harness.js";
import { customer } from "../instances/fixtures.js";

// The default catalog's eu-central-1 has no B200s; each test gives it some.
const region = "eu-central-1";

/**
 * With the loops running, as in a server: freeing capacity kicks the waitlist, so a waiting request is served
 * within moments instead of at the loop's next poll.
 */
describeEachDb("waitlist wake-up", (h) => {
  const sim = () => h().ctx.services.providers.simulator!;
  /** Well before the loop's own poll. */
  const promptlyMs = 2_000;
  /** Starts the loops as a server runs them (again: timers restart), so the waitlist's next poll is a full interval away. */
  const startLoops = () => h().server.runner!.start();

  async function deploy(key: string, sshKeyId: string) {
    const res = await h().post(
      "/api/v1/deployments/clusters",
      {
        cluster_type: "GPU.B200.1x",
        image: "ubuntu-24.04-cuda-12.8-cluster",
        hostname: "holder",
        ssh_key_ids: [sshKeyId],
        location: region,
      },
      key,
    );
    expect(res.status).toBe(201);
    return res.body.data.id as string;
  }

  async function join(hostname: string, c: { key: string; sshKeyId: string }) {
    const res = await h().post(
      "/api/v1/waitlist",
      {
        plan_id: "GPU.B200.1x",
        region,
        mode: "auto_deploy",
        deploy: { image: "ubuntu-24.04-cuda-12.8-cluster", hostname, ssh_key_ids: [c.sshKeyId] },
      },
      c.key,
    );
    expect(res.status, res.text).toBe(201);
    expect(res.body.data).toMatchObject({ status: "waiting", position: 1 });
    return res.body.data.id as string;
  }

  /** Milliseconds until the entry is deployed, polling what its owner sees; fails after the loop's own interval. */
  async function untilDeployed(entryId: string, key: string, since: number) {
    const pollMs = waitlist.intervalMs(h().ctx);
    for (;;) {
      const entry = (await h().get(`/api/v1/waitlist/${entryId}`, key)).body.data;
      if (entry.status === "deployed") return { ms: performance.now() - since, entry };
      if (performance.now() - since > pollMs + 2_000) throw new Error(`still ${entry.status} (${entry.status_reason})`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  it("deploys a waiting request right after a delete frees the capacity, well before the 5 s poll", async () => {
    expect(waitlist.intervalMs(h().ctx)).toBe(5_000);
    sim().setCapacity(region, "B200", 1);
    const holder = await customer(h());
    const held = await deploy(holder.key, holder.sshKeyId);
    const waiter = await customer(h());
    const entryId = await join("wl-next", waiter);

    startLoops();
    const deletedAt = performance.now();
    expect((await h().del(`/api/v1/instances/${held}`, holder.key)).status).toBe(200);
    const { ms, entry } = await untilDeployed(entryId, waiter.key, deletedAt);
    expect(ms).toBeLessThan(promptlyMs);
    const instance = await h().get(`/api/v1/instances/${entry.instance_id}`, waiter.key);
    expect(instance.body.data).toMatchObject({ id: entry.instance_id, name: "wl-next" });
  });

  it("deploys a waiting request right after the simulator is given more GPUs", async () => {
    sim().setCapacity(region, "B200", 0); // the one B200 is taken by the previous test's instance
    const waiter = await customer(h());
    const entryId = await join("wl-more", waiter);

    startLoops();
    const raisedAt = performance.now();
    sim().setCapacity(region, "B200", 2);
    const { ms } = await untilDeployed(entryId, waiter.key, raisedAt);
    expect(ms).toBeLessThan(promptlyMs);
  });
});
