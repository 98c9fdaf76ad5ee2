import { installScriptTemplate } from "../../packages/agent/src/build.js";
import type { AppContext } from "../context.js";
import { agentArtifact } from "../domain/agent/artifact.js";
import type { Router } from "./env.js";

/** The address hosts reach this server at: GPUPLANE_PUBLIC_URL, else the one the request came to. */
export function publicUrl(ctx: AppContext, requestUrl: string): string {
  return ctx.config.publicUrl ?? new URL(requestUrl).origin;
}

/** A warning when `url` is a loopback address, which a GPU host (another machine) cannot reach this server at. */
export function loopbackWarning(ctx: AppContext, url: string): string | null {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, "");
  const loopback = host === "localhost" || host.endsWith(".localhost") || /^127\./.test(host) || host === "::1";
  if (!loopback && host !== "0.0.0.0") return null;
  return `${url} is a loopback address: a GPU host cannot reach the server there. ${
    ctx.config.publicUrl
      ? "GPUPLANE_PUBLIC_URL is set to it; set it"
      : "Set GPUPLANE_PUBLIC_URL (docs/configuration.md)"
  } to the address hosts reach this server at, e.g. https://gpus.example.com, or pass --server URL to install.sh.`;
}

/**
 * What a GPU host installs, without credentials (the join token is the secret; these files are the same for all):
 *   GET /agent/install.sh          the installer, with this server's address filled in
 *   GET /agent/version             {version, sha256, url} of the agent build served
 *   GET /agent/gpuplane-agent.mjs  the agent, one file for Node >= 20
 */
export function serveAgentFiles(app: Router, ctx: AppContext) {
  const artifact = agentArtifact(ctx.config);
  app.get("/agent/version", async (c) => {
    const agent = await artifact.get();
    c.header("cache-control", "no-cache");
    return c.json({
      version: agent.version,
      sha256: agent.sha256,
      size: agent.code.length,
      url: `${publicUrl(ctx, c.req.url)}/agent/gpuplane-agent.mjs`,
    });
  });
  app.get("/agent/gpuplane-agent.mjs", async (c) => {
    const agent = await artifact.get();
    c.header("content-type", "text/javascript; charset=utf-8");
    c.header("cache-control", "no-cache");
    c.header("etag", `"${agent.sha256}"`);
    c.header("x-gpuplane-agent-version", agent.version);
    c.header("x-gpuplane-agent-sha256", agent.sha256);
    return c.body(new Uint8Array(agent.code));
  });
  app.get("/agent/install.sh", (c) => {
    const server = publicUrl(ctx, c.req.url);
    c.header("content-type", "text/x-shellscript; charset=utf-8");
    c.header("cache-control", "no-cache");
    return c.body(installScriptTemplate().replaceAll("__GPUPLANE_SERVER__", server));
  });
}
