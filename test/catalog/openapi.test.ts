import { expect, it } from "vitest";
import { describeEachDb } from "../helpers/harness.js";

describeEachDb("customer API in the OpenAPI document", (h) => {
  it("documents both instance shapes, the catalog, SSH keys and volumes", async () => {
    const res = await h().get("/openapi.json", null);
    expect(res.status).toBe(200);
    const paths = Object.keys(res.body.paths);
    for (const path of [
      "/api/v1/instances",
      "/api/v1/instances/{id}/stop",
      "/api/v1/deployments/clusters",
      "/api/v1/deployments/{id}",
      "/api/v1/gpus/available",
      "/api/v1/plans",
      "/api/v1/images",
      "/api/v1/templates",
      "/api/v1/regions",
      "/api/v1/instance-types/{id}",
      "/api/v1/ssh-keys",
      "/api/v1/volumes/{id}",
      "/api/v1/instances/{id}/volumes",
    ]) {
      expect(paths).toContain(path);
    }
    expect(res.body.components.schemas.DeployCluster.required).toEqual(
      expect.arrayContaining(["cluster_type", "image", "hostname", "ssh_key_ids"]),
    );
  });
});
