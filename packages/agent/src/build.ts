import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** packages/agent; GPUPLANE_AGENT_ROOT names it where the server runs from a bundle (the device kit). */
const agentRoot = process.env.GPUPLANE_AGENT_ROOT ?? join(dirname(fileURLToPath(import.meta.url)), "..");

/** install.sh as written, before the server fills in its address. */
export function installScriptTemplate(): string {
  return readFileSync(join(agentRoot, "install.sh"), "utf8");
}

/** The version the sources carry (packages/agent/package.json). */
export function packageVersion(): string {
  return JSON.parse(readFileSync(join(agentRoot, "package.json"), "utf8")).version;
}

export interface AgentBundle {
  code: Buffer;
  version: string;
  sha256: string;
}

/** The first lines of every build: `head -2` of the file says what it is, and the server reads the version there. */
export const bundleBanner = (version: string) => `#!/usr/bin/env node\n// gpuplane-agent ${version}`;

/** The version a built file declares in its banner, or null when it is not an agent build. */
export function bundleVersion(code: Buffer | string): string | null {
  const head = Buffer.from(code).subarray(0, 200).toString("utf8");
  return /^#!\/usr\/bin\/env node\n\/\/ gpuplane-agent (\S+)\n/.exec(head)?.[1] ?? null;
}

/**
 * Builds the agent into one ES module for Node >= 20 with esbuild: no dependency to install (the SDK's wire types are
 * type-only), the version stamped in (`version` overrides package.json's, e.g. to build a newer file for a test).
 */
export async function buildAgent(options: { version?: string } = {}): Promise<AgentBundle> {
  const version = options.version ?? packageVersion();
  const esbuild = await import("esbuild");
  const result = await esbuild.build({
    entryPoints: [join(agentRoot, "src/main.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    write: false,
    minify: false,
    legalComments: "none",
    banner: { js: bundleBanner(version) },
    define: {
      __GPUPLANE_AGENT_VERSION__: JSON.stringify(version),
      __GPUPLANE_AGENT_BUNDLE__: "true",
    },
    logLevel: "silent",
  });
  const code = Buffer.from(result.outputFiles[0].contents);
  return { code, version, sha256: createHash("sha256").update(code).digest("hex") };
}
