#!/usr/bin/env node
// The customer and operator CLI on its own (no server inside). An installed package runs its bundle
// (dist/gpuplane.mjs: no dependencies, fast start); a checkout whose bundle is missing or older than the sources runs
// the TypeScript through tsx's loader.
import { pathToFileURL } from "node:url";
import { bundlePath } from "./bundle.mjs";

const bundle = bundlePath();
let cli;
if (bundle) cli = await import(pathToFileURL(bundle).href);
else {
  const { register } = await import("tsx/esm/api");
  register();
  cli = await import("../src/main.ts");
}
await cli.main(process.argv.slice(2));
