/**
 * The device kit: a folder to carry to a GPU host that has only `node` (20 or newer), no checkout, no npm install.
 * It holds the single-file agent (the same esbuild bundle the server serves at /agent/gpuplane-agent.mjs) and
 * scripts/device-check.sh, which finds the agent beside itself. The server is not bundled yet: the check's steps 2-4
 * need GPUPLANE_CHECKOUT (a checkout with node_modules). Usage: npm run build:device-kit [-- <dir>] (default dist/device-kit).
 */
import { chmodSync, copyFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { buildAgent } from "../packages/agent/src/build.js";

const out = resolve(process.argv[2] ?? "dist/device-kit");
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const agent = await buildAgent();
writeFileSync(join(out, "gpuplane-agent.mjs"), agent.code, { mode: 0o755 });
copyFileSync(resolve("scripts/device-check.sh"), join(out, "device-check.sh"));
chmodSync(join(out, "device-check.sh"), 0o755);
writeFileSync(join(out, "VERSION"), `${agent.version} sha256 ${agent.sha256}\n`);
console.log(`device kit: ${out} (agent ${agent.version}, ${agent.code.length} bytes)`);
