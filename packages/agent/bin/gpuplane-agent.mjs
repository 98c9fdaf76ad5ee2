#!/usr/bin/env node
// Runs the agent's TypeScript sources with no build step and no dependency: through tsx when it is installed
// (development, CI, the gpuplane server's checkout), else through Node's own type stripping (Node >= 22.18 or 23.6),
// with a resolve hook for the `.js` specifiers the sources use. See ../README.md. Hosts run the single-file build
// instead (GET /agent/gpuplane-agent.mjs from the server, docs/agent.md), which needs Node >= 20 and nothing else.
import { register } from "node:module";

let loaded = false;
try {
  const { register: registerTsx } = await import("tsx/esm/api");
  registerTsx();
  loaded = true;
} catch {
  // no tsx: fall back to Node's type stripping below
}
if (!loaded) {
  if (!process.features?.typescript) {
    process.stderr.write("gpuplane-agent needs Node >= 22.18 (built-in TypeScript) or tsx installed (npm i -g tsx)\n");
    process.exit(1);
  }
  const hook = `export async function resolve(specifier, context, next) {
    try { return await next(specifier, context); } catch (error) {
      if (specifier.startsWith(".") && specifier.endsWith(".js")) return next(specifier.slice(0, -3) + ".ts", context);
      throw error;
    }
  }`;
  register(`data:text/javascript,${encodeURIComponent(hook)}`);
}
await import("../src/main.ts");
