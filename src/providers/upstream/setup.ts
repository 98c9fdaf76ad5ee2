import type { AppContext } from "../../context.js";
import { LambdaCloud } from "../lambda/index.js";
import { RunPodCloud } from "../runpod/index.js";
import { VerdaCloud } from "../verda/index.js";
import { CircuitBreaker } from "./breaker.js";
import type { UpstreamCredentials } from "./config.js";
import { UpstreamProviders } from "./provider.js";
import type { UpstreamCloud, UpstreamName } from "./types.js";

/** The resold clouds the operator configured, each with its own circuit breaker; null when none is. */
export function buildUpstreams(
  ctx: AppContext,
  credentials = ctx.config.upstreams.credentials,
): UpstreamProviders | null {
  const now = () => ctx.clock.now().getTime();
  const timeoutMs = ctx.config.upstreams.timeoutMs;
  const clouds = new Map<UpstreamName, { cloud: UpstreamCloud; breaker: CircuitBreaker }>();
  const add = (make: (breaker: CircuitBreaker) => UpstreamCloud) => {
    const breaker = new CircuitBreaker(now);
    const cloud = make(breaker);
    clouds.set(cloud.name, { cloud, breaker });
  };
  const c: UpstreamCredentials = credentials;
  if (c.lambda) add((breaker) => new LambdaCloud({ ...c.lambda!, breaker, timeoutMs }));
  if (c.verda) add((breaker) => new VerdaCloud({ ...c.verda!, breaker, timeoutMs }));
  if (c.runpod) add((breaker) => new RunPodCloud({ ...c.runpod!, breaker, timeoutMs }));
  return clouds.size ? new UpstreamProviders(clouds, now) : null;
}
