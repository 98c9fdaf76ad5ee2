// Finds the CLI's bundle (dist/gpuplane.mjs) when it may be used: present and, in a checkout, not older than any
// source it was built from (packages/cli/src, packages/sdk/src). A stale or missing bundle returns undefined and the
// caller runs the TypeScript sources through tsx instead, so an edit is never hidden by an old build.
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const cliRoot = join(dirname(fileURLToPath(import.meta.url)), "..");

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const mtime = entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs;
    if (mtime > newest) newest = mtime;
  }
  return newest;
}

export function bundlePath() {
  const bundle = join(cliRoot, "dist", "gpuplane.mjs");
  if (!existsSync(bundle)) return undefined;
  const built = statSync(bundle).mtimeMs;
  for (const sources of [join(cliRoot, "src"), join(cliRoot, "..", "sdk", "src")]) {
    if (existsSync(sources) && newestMtime(sources) > built) return undefined;
  }
  return bundle;
}
