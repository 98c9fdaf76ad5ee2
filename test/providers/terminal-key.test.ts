import { afterAll, expect, it } from "vitest";
import { describeOneDb, type Harness } from "../helpers/harness.js";
import { customer } from "../instances/fixtures.js";
import { E2eFake } from "./fakes/e2e.js";
import { LambdaFake } from "./fakes/lambda.js";
import { RunPodFake } from "./fakes/runpod.js";
import type { FakeCloud } from "./fakes/server.js";
import { VerdaFake } from "./fakes/verda.js";
import { connect, tick } from "./helpers.js";

/**
 * Every resold cloud's launch carries the server's web terminal key after the customer's, each in the cloud's own way
 * (Verda: a registered key id; Lambda: cloud-init user data, as its second and later keys; RunPod: PUBLIC_KEY lines;
 * E2E: ssh_keys), so the terminal can log in to the instance as the customer's SSH does.
 */
const clouds: [string, FakeCloud, (fake: any) => string][] = [
  ["verda", await new VerdaFake().start(), (f: VerdaFake) => [...f.sshKeys.values()].map((k) => k.key).join("\n")],
  [
    "lambda",
    await new LambdaFake().start(),
    // The first key by its registered name, the others in the launch's cloud-init user data.
    (f: LambdaFake) =>
      [...f.sshKeys.values(), f.calls("POST", "/instance-operations/launch")[0].body.user_data].join("\n"),
  ],
  ["runpod", await new RunPodFake().start(), (f: RunPodFake) => f.calls("POST", "/v2/pods")[0].body.env.PUBLIC_KEY],
  ["e2e", await new E2eFake().start(), (f: E2eFake) => f.calls("POST", "/nodes/")[0].body.ssh_keys.join("\n")],
];
afterAll(() => Promise.all(clouds.map(([, fake]) => fake.stop())));

for (const [name, fake, keysSent] of clouds) {
  describeOneDb(
    `the web terminal key on ${name}`,
    (h: () => Harness) => {
      it(`is sent with the customer's key when ${name} launches an instance`, async () => {
        await connect(h(), { [name]: fake });
        const { key, sshKeyId } = await customer(h());
        const created = await h().post(
          "/api/v1/instances",
          { planId: "GPU.H100.1x", templateSlug: "pytorch-cuda", sshKeyId },
          key,
        );
        expect(created.status, created.text).toBe(201);
        await tick(h(), "provisioning");
        const own = (await h().get("/api/v1/ssh-keys", key)).body.data[0].public_key as string;
        const terminal = h().ctx.services.terminal.keys.publicKey;
        const sent = keysSent(fake);
        expect(sent).toContain(own.split(" ")[1]);
        expect(sent).toContain(terminal.split(" ")[1]);
        // Never the private half.
        expect(sent).not.toContain("PRIVATE KEY");
      });
    },
    { manualClock: true, env: { GPUPLANE_SIMULATOR: "off", ...fake.env() } },
  );
}
