import type { AppContext } from "../../context.js";

/**
 * What /healthz says of each resold cloud: ok, or its last error (a refused credential, an outage) and whether calls
 * to it are paused. The server itself stays healthy: a cloud's trouble is the operator's to fix, not a restart's.
 */
export function upstreamHealthDetail(ctx: AppContext) {
  const upstream = ctx.services.providers?.upstream;
  if (!upstream) return undefined;
  return Object.fromEntries(
    [...upstream.clouds.keys()].map((name) => {
      const health = upstream.health.get(name);
      return [name, { ok: health?.ok ?? null, error: health?.error ?? null, paused: upstream.isOpen(name) }];
    }),
  );
}
