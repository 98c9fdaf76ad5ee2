// Builds the web console after `npm install` so that `npm start` serves it, and bundles the CLI
// (packages/cli/dist/gpuplane.mjs, about a second) so that `npx gpuplane --version` and the customer commands start
// without tsx. Skipped where the dev tooling is absent (an agent host installing only its workspace).

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

if (existsSync("packages/cli/scripts/build.mjs")) {
  // Optional: without esbuild the CLI runs its sources through tsx, only slower to start.
  spawnSync(process.execPath, ["packages/cli/scripts/build.mjs", "--optional"], { stdio: "inherit" });
}
if (!existsSync("web/vite.config.ts") || !existsSync("node_modules/vite")) process.exit(0);
const result = spawnSync(
  process.execPath,
  ["node_modules/vite/bin/vite.js", "build", "--config", "web/vite.config.ts", "--logLevel", "warn"],
  { stdio: "inherit" },
);
process.exit(result.status ?? 1);
