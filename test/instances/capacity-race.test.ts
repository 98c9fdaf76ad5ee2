import { and, eq, ne } from "drizzle-orm";
import { expect, it } from "vitest";
import { instances } from "../../src/db/schema/index.js";
import { describeEachDb } from "../helpers/harness.js";
import { customer } from "./fixtures.js";

describeEachDb(
  "capacity under concurrent creates",
  (h) => {
    it("gives the last GPUs to exactly one of several racing customers; the rest get 409 with the waitlist", async () => {
      h().ctx.services.providers.simulator!.setCapacity("ICE-01", "RTX 6000", 2);
      const racers = await Promise.all(Array.from({ length: 6 }, () => customer(h())));
      const results = await Promise.all(
        racers.map((r, i) =>
          h().post(
            "/api/v1/deployments/clusters",
            {
              cluster_type: "GPU.RTX6000.2x",
              image: "ubuntu-22.04-cuda-12.4-cluster",
              hostname: `racer-${i}`,
              ssh_key_ids: [r.sshKeyId],
              location: "ICE-01",
            },
            r.key,
          ),
        ),
      );
      expect(results.filter((r) => r.status === 201)).toHaveLength(1);
      const refused = results.filter((r) => r.status !== 201);
      expect(refused.every((r) => r.status === 409 && r.body.waitlist?.region === "ICE-01")).toBe(true);
      const live = await h()
        .ctx.db.select()
        .from(instances)
        .where(
          and(eq(instances.regionId, "ICE-01"), eq(instances.gpuModel, "RTX 6000"), ne(instances.status, "deleted")),
        );
      expect(live).toHaveLength(1);
    });
  },
  { manualClock: true },
);
