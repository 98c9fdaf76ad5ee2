import { E2eCloud, e2eOs } from "../e2e/index.js";
import { LambdaCloud } from "../lambda/index.js";
import { RunPodCloud } from "../runpod/index.js";
import { VerdaCloud } from "../verda/index.js";
import { CircuitBreaker } from "./breaker.js";
import type { UpstreamCredentials } from "./config.js";
import type { UpstreamCloud, UpstreamName } from "./types.js";

/** One configured cloud's adapter with the circuit breaker its calls go through. */
export interface ConfiguredCloud {
  cloud: UpstreamCloud;
  breaker: CircuitBreaker;
}

/**
 * The adapters of the clouds the operator configured, each with its own circuit breaker (empty when none is). Pure
 * construction from configuration: what to do with them (placement, launches, reconciliation) is the domain's,
 * src/domain/placement/.
 */
export function buildClouds(
  credentials: UpstreamCredentials,
  options: { now: () => number; timeoutMs: number },
): Map<UpstreamName, ConfiguredCloud> {
  const { now, timeoutMs } = options;
  const clouds = new Map<UpstreamName, ConfiguredCloud>();
  const add = (make: (breaker: CircuitBreaker) => UpstreamCloud) => {
    const breaker = new CircuitBreaker(now);
    const cloud = make(breaker);
    clouds.set(cloud.name, { cloud, breaker });
  };
  const c: UpstreamCredentials = credentials;
  if (c.lambda) add((breaker) => new LambdaCloud({ ...c.lambda!, breaker, timeoutMs }));
  if (c.verda) add((breaker) => new VerdaCloud({ ...c.verda!, breaker, timeoutMs }));
  if (c.runpod) add((breaker) => new RunPodCloud({ ...c.runpod!, breaker, timeoutMs }));
  if (c.e2e) add((breaker) => new E2eCloud({ ...c.e2e!, os: e2eOs(c.e2e!.os), breaker, timeoutMs }));
  return clouds;
}
