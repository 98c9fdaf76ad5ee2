import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { buildAgent, bundleVersion, packageVersion } from "../../../packages/agent/src/build.js";
import { compareVersions } from "../../../packages/agent/src/version.js";
import { ApiError } from "../../lib/errors.js";

/** The agent build the server hands out: GET /agent/gpuplane-agent.mjs, /agent/version, what nodes upgrade to. */
export interface ServedAgent {
  code: Buffer;
  version: string;
  sha256: string;
}

/**
 * The single-file agent this server serves. With GPUPLANE_AGENT_FILE, that file (read again whenever it changes on
 * disk, so dropping a newer build there is how an operator offers an upgrade); otherwise built from packages/agent
 * with esbuild once, at server start.
 */
export class AgentArtifact {
  private readonly file: string | undefined;
  private built: Promise<ServedAgent> | undefined;
  private cached: { mtimeMs: number; size: number; agent: ServedAgent } | undefined;

  constructor(file: string | undefined) {
    this.file = file;
  }

  /** The version served now, without building: nodes reporting an older one are flagged. */
  version(): string {
    if (!this.file) return packageVersion();
    try {
      return this.read().version;
    } catch {
      return packageVersion();
    }
  }

  async get(): Promise<ServedAgent> {
    if (this.file) return this.read();
    this.built ??= buildAgent().catch((error) => {
      this.built = undefined;
      throw new ApiError("UNAVAILABLE", `the agent could not be built: ${(error as Error).message}`);
    });
    return this.built;
  }

  private read(): ServedAgent {
    const file = this.file!;
    let stat: ReturnType<typeof statSync>;
    try {
      stat = statSync(file);
    } catch {
      throw new ApiError("UNAVAILABLE", `GPUPLANE_AGENT_FILE ${file} cannot be read`);
    }
    if (this.cached && this.cached.mtimeMs === stat.mtimeMs && this.cached.size === stat.size) return this.cached.agent;
    const code = readFileSync(file);
    const version = bundleVersion(code);
    if (!version) throw new ApiError("UNAVAILABLE", `GPUPLANE_AGENT_FILE ${file} is not a gpuplane-agent build`);
    const agent = { code, version, sha256: createHash("sha256").update(code).digest("hex") };
    this.cached = { mtimeMs: stat.mtimeMs, size: stat.size, agent };
    return agent;
  }
}

const artifacts = new Map<string, AgentArtifact>();

export function agentArtifact(config: { agentFile?: string }): AgentArtifact {
  const key = config.agentFile ?? "";
  let artifact = artifacts.get(key);
  if (!artifact) {
    artifact = new AgentArtifact(config.agentFile);
    artifacts.set(key, artifact);
  }
  return artifact;
}

/** An agent reporting a version below the served one is out of date (null: no agent has reported). */
export function agentOutdated(reported: string | null, served: string): boolean | null {
  return reported === null ? null : compareVersions(reported, served) < 0;
}
