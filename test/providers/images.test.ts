import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachDb } from "../helpers/harness.js";
import { customer } from "../instances/fixtures.js";
import { LambdaFake } from "./fakes/lambda.js";
import { RunPodFake } from "./fakes/runpod.js";
import { VerdaFake } from "./fakes/verda.js";
import { connect, tick, view } from "./helpers.js";

const verda = await new VerdaFake().start();
const lambda = await new LambdaFake().start();
const runpod = await new RunPodFake().start();
afterAll(() => Promise.all([verda.stop(), lambda.stop(), runpod.stop()]));

/**
 * The image map: each gpuplane image names what each resold cloud launches for it (Verda's image_type, Lambda's image
 * family, RunPod's image name); the operator sets it through the image API; a cloud with no mapping does not sell it.
 */
describeEachDb(
  "image map per resold cloud",
  (h) => {
    beforeAll(async () => {
      verda.reset();
      lambda.reset();
      runpod.reset();
      await connect(h(), { verda, lambda, runpod });
    });
    const deploy = (key: string, sshKeyId: string, image: string, location: string, cluster_type = "1H100.80S.30V") =>
      h().post(
        "/api/v1/deployments/clusters",
        { cluster_type, image, hostname: "mapped", ssh_key_ids: [sshKeyId], location },
        key,
      );

    it("shows the default catalog's names, and each cloud launches its own image for a gpuplane image", async () => {
      const images = (await h().get("/api/v1/images")).body.data;
      expect(images.find((i: any) => i.id === "pytorch-cuda").upstream_images).toEqual({
        verda: "ubuntu-22.04-cuda-12.4-docker",
        lambda: "lambda-stack-22-04",
        runpod: "runpod/pytorch:2.4.0-py3.11-cuda12.4.1-devel-ubuntu22.04",
        e2e: "Ubuntu-22.04-Distro",
      });
      const { key, sshKeyId } = await customer(h(), "200");
      const onVerda = await deploy(key, sshKeyId, "ubuntu-24.04-cuda-12.8-cluster", "FIN-01");
      expect(onVerda.status).toBe(201);
      const onLambda = await deploy(key, sshKeyId, "pytorch-cuda", "us-east-1");
      expect(onLambda.status).toBe(201);
      const onRunPod = await deploy(key, sshKeyId, "pytorch-cuda", "EU-RO-1");
      expect(onRunPod.status).toBe(201);
      // RunPod runs any container image: an image with no RunPod name launches its own container reference.
      const tensorflow = await deploy(key, sshKeyId, "tensorflow-cuda", "EU-RO-1");
      expect(tensorflow.status, tensorflow.text).toBe(201);
      expect(await tick(h(), "provisioning")).toMatchObject({ launched: 4, failed: 0 });
      expect(verda.calls("POST", "/instances").at(-1)!.body).toMatchObject({
        image: "ubuntu-24.04-cuda-12.8-open-docker",
      });
      expect(lambda.calls("POST", "/instance-operations/launch").at(-1)!.body).toMatchObject({
        image: { family: "lambda-stack-22-04" },
      });
      const pods = runpod.calls("POST", "/v2/pods").map((c) => c.body.image);
      expect(pods.sort()).toEqual([
        "docker.io/tensorflow/tensorflow:2.16.1-gpu",
        "runpod/pytorch:2.4.0-py3.11-cuda12.4.1-devel-ubuntu22.04",
      ]);
    });

    it("refuses an image no cloud of the region sells, with a 400 that says so, until the operator maps it", async () => {
      const { key, sshKeyId } = await customer(h(), "200");
      // vLLM has no Verda image in the default map: FIN-01 (Verda only) cannot sell it.
      const refused = await deploy(key, sshKeyId, "vllm-cuda", "FIN-01");
      expect(refused.status).toBe(400);
      expect(refused.body.error).toMatch(/image 'vllm-cuda' is not offered on verda/);

      // Bad names are refused by field; then the operator maps it.
      const bad = await h().patch("/api/v1/images/vllm-cuda", { upstream_images: { runpod: "Not An Image" } });
      expect(bad.status).toBe(400);
      expect(bad.body.error).toMatch(/upstream_images\.runpod/);
      const unknownCloud = await h().patch("/api/v1/images/vllm-cuda", { upstream_images: { aws: "ami-1" } });
      expect(unknownCloud.status).toBe(400);
      const mapped = await h().patch("/api/v1/images/vllm-cuda", {
        upstream_images: { verda: "ubuntu-24.04-cuda-12.8-open-docker", lambda: "no-such-family" },
      });
      expect(mapped.status).toBe(200);
      expect(mapped.body.data.upstream_images).toEqual({
        verda: "ubuntu-24.04-cuda-12.8-open-docker",
        lambda: "no-such-family",
      });
      const onVerda = await deploy(key, sshKeyId, "vllm-cuda", "FIN-01");
      expect(onVerda.status).toBe(201);

      // A name the cloud does not have is the cloud's refusal, shown on the instance (the fakes check what the real
      // APIs check): Lambda answers global/invalid-parameters.
      const onLambda = await deploy(key, sshKeyId, "vllm-cuda", "us-east-1");
      expect(onLambda.status).toBe(201);
      await tick(h(), "provisioning");
      expect(verda.calls("POST", "/instances").at(-1)!.body.image).toBe("ubuntu-24.04-cuda-12.8-open-docker");
      expect((await view(h(), onVerda.body.data.id, key)).status).toBe("provisioning");
      const failed = await view(h(), onLambda.body.data.id, key);
      expect(failed.status).toBe("failed");
      expect(failed.statusReason).toMatch(/global\/invalid-parameters: Invalid image/);

      // null puts the default catalog's map back (none for vLLM on Verda).
      const reset = await h().patch("/api/v1/images/vllm-cuda", { upstream_images: null });
      expect(reset.body.data.upstream_images).toEqual({});
      expect((await deploy(key, sshKeyId, "vllm-cuda", "FIN-01")).status).toBe(400);

      // A new image created with its map.
      const created = await h().post("/api/v1/images", {
        id: "my-stack",
        name: "My stack",
        os: "Ubuntu 22.04",
        compatible_gpus: ["H100"],
        upstream_images: { verda: "ubuntu-22.04-cuda-12.4-docker" },
      });
      expect(created.status).toBe(201);
      expect(created.body.data.upstream_images).toEqual({ verda: "ubuntu-22.04-cuda-12.4-docker" });
    });
  },
  {
    manualClock: true,
    env: {
      GPUPLANE_SIMULATOR: "off",
      ...verda.env(),
      ...lambda.env(),
      ...runpod.env(),
    },
  },
);
