import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { renderGenerated } from "../../packages/sdk/scripts/generate.js";
import { buildOpenApiDocument } from "../../packages/sdk/scripts/openapi-document.js";

/**
 * The CI check that the SDKs' checked-in types are the ones the routes produce: a route change that is not followed
 * by `npm run generate -w @gpuplane/sdk` fails here, naming the stale file, instead of breaking clients later.
 */
describe("generated SDK types", () => {
  it("match the document the app serves at /openapi.json", async () => {
    const files = await renderGenerated(await buildOpenApiDocument());
    for (const [path, content] of Object.entries(files)) {
      const checkedIn = readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");
      expect(checkedIn === content, `${path} is stale: run npm run generate -w @gpuplane/sdk`).toBe(true);
    }
  });
});
