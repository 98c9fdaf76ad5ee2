// Launch the cheapest available GPU instance and wait until it is running, then print how to reach it.
// GPUPLANE_URL=http://localhost:8080 GPUPLANE_API_KEY=… node bin/run-ts.mjs packages/sdk/examples/launch-and-wait.ts
import { createGpuplane, InsufficientCreditsError, unwrap, waitForInstance } from "@gpuplane/sdk";

const api = createGpuplane({ baseUrl: process.env.GPUPLANE_URL!, apiKey: process.env.GPUPLANE_API_KEY });

const offers = await unwrap(api.GET("/api/v1/offers", { params: { query: { available: "true" } } }));
const cheapest = offers.sort((a, b) => a.price_per_hour_usd - b.price_per_hour_usd)[0];
const keys = await unwrap(api.GET("/api/v1/ssh-keys"));

try {
  const ordered = await unwrap(
    api.POST("/api/v1/instances", {
      body: {
        name: "example",
        planId: cheapest.plan_id,
        templateSlug: "pytorch-cuda",
        sshKeyIds: keys.map((k) => k.id),
      },
    }),
  );
  const running = await waitForInstance(api, ordered.id, { onChange: (i) => console.log(`${i.id} ${i.status}`) });
  console.log(running.sshCommand);
} catch (error) {
  if (error instanceof InsufficientCreditsError) console.error(`top up first: ${error.message} (${error.requestId})`);
  throw error;
}
