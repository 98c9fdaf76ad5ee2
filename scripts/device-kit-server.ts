// The device kit's server entry (bundled by scripts/build-device-kit.ts into server/gpuplane-server.mjs): the gpuplane
// CLI (`serve`, `migrate`, …) with the kit's own files as defaults. The agent it serves and upgrades nodes to is the
// prebuilt single file beside the server (the kit has no esbuild to build one), and /agent/install.sh is read from the
// kit's agent/ folder; GPUPLANE_AGENT_FILE and GPUPLANE_AGENT_ROOT still override both.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const kit = join(dirname(fileURLToPath(import.meta.url)), "..");
process.env.GPUPLANE_AGENT_FILE ??= join(kit, "gpuplane-agent.mjs");
process.env.GPUPLANE_AGENT_ROOT ??= join(kit, "agent");
// Imported only now: packages/agent/src/build.ts reads GPUPLANE_AGENT_ROOT when its module is evaluated.
const { main } = await import("../src/cli.js");
await main(process.argv.slice(2));
