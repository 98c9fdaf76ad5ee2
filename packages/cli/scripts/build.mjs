#!/usr/bin/env node
// Bundles the CLI and the SDK it uses into one file, dist/gpuplane.mjs: no tsx, no TypeScript, no dependencies at
// run time, so a global install (`npm install -g` of the folder or of `npm pack`'s tarball) works on any Node 20.19+
// and `gpuplane --version` starts in well under 300 ms. Run by `npm run build`, `prepack` and the root postinstall.
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
let esbuild;
try {
  esbuild = await import("esbuild");
} catch {
  process.stderr.write("@gpuplane/cli: esbuild is not installed; the CLI runs its sources through tsx instead\n");
  process.exit(process.argv.includes("--optional") ? 0 : 1);
}
mkdirSync(join(root, "dist"), { recursive: true });
await esbuild.build({
  entryPoints: [join(root, "src/entry.ts")],
  outfile: join(root, "dist/gpuplane.mjs"),
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  legalComments: "none",
  logLevel: "warning",
});
