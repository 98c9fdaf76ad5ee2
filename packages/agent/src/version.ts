import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

// Set by the single-file build (src/build.ts, esbuild `define`); absent when the sources run through tsx.
declare const __GPUPLANE_AGENT_VERSION__: string | undefined;
declare const __GPUPLANE_AGENT_BUNDLE__: boolean | undefined;

/** The sources' version (packages/agent/package.json); the build stamps the same, or a given one, into the file. */
export const SOURCE_VERSION = "0.1.0";

export const AGENT_VERSION: string =
  typeof __GPUPLANE_AGENT_VERSION__ === "string" ? __GPUPLANE_AGENT_VERSION__ : SOURCE_VERSION;

/** The single file this agent runs from, or null when it runs from its sources (development, the server's CLI). */
export function agentFile(): string | null {
  if (typeof __GPUPLANE_AGENT_BUNDLE__ !== "boolean" || !__GPUPLANE_AGENT_BUNDLE__) return null;
  return fileURLToPath(import.meta.url);
}

let cachedSha: string | null | undefined;

/** sha256 of the file this agent runs from (what the server's /agent/version compares against), or null. */
export function agentSha256(): string | null {
  if (cachedSha !== undefined) return cachedSha;
  const file = agentFile();
  try {
    cachedSha = file ? createHash("sha256").update(readFileSync(file)).digest("hex") : null;
  } catch {
    cachedSha = null;
  }
  return cachedSha;
}

/** Dotted numeric versions: -1 when a < b, 0 when equal, 1 when a > b (a pre-release tag sorts before the release). */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const [core, pre] = v.replace(/^v/, "").split("-", 2);
    return { parts: core.split(".").map((p) => Number.parseInt(p, 10) || 0), pre };
  };
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < Math.max(x.parts.length, y.parts.length); i++) {
    const d = (x.parts[i] ?? 0) - (y.parts[i] ?? 0);
    if (d) return d < 0 ? -1 : 1;
  }
  if (x.pre === y.pre) return 0;
  if (x.pre === undefined) return 1;
  if (y.pre === undefined) return -1;
  return x.pre < y.pre ? -1 : 1;
}
