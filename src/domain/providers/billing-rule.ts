import type { UpstreamBillingRule, UpstreamCloud } from "../../providers/upstream/types.js";
import type { InstanceRow } from "../instances/row.js";

/**
 * How a resold instance is billed so that the customer is never charged less than the cloud charges the operator
 * (docs/upstreams.md "Money"): from the cloud's rule, copied onto the instance when it is launched.
 *
 * - increment: the type's granularity and the cloud's increment both divide the one billed (their least common
 *   multiple: Lambda's 60 s makes a per-second type per-minute), so every run is rounded up at least as far as the
 *   cloud rounds it;
 * - minimum: the cloud's shortest charge at the instance's price, if above the type's own minimum;
 * - while stopped: `full` keeps the run open through a stop until the instance is gone (Verda charges a shut-down
 *   instance its full price), said on the instance and in the stop's answer.
 *
 * Where the run starts and ends is applied by the status sync (reconcile.ts): `startsAt: launch` backdates the run to
 * the launch once the instance runs (never billed if it never runs: the provisioning timeout fails it), `endsAt: gone`
 * ends it at the pass that saw the cloud's copy gone.
 */
export function resaleBilling(
  row: Pick<InstanceRow, "billingGranularitySeconds" | "minimumChargeMicros" | "pricePerHourMicros">,
  cloud: Pick<UpstreamCloud, "billing">,
): Pick<InstanceRow, "billingGranularitySeconds" | "minimumChargeMicros" | "billedWhileStopped"> {
  const rule = cloud.billing;
  const cloudMinimum = ceilDiv(row.pricePerHourMicros * BigInt(rule.minimumSeconds), 3_600n);
  // biome-ignore lint/complexity/useMathMinMax: bigints, which Math.max does not take
  const minimum = cloudMinimum > row.minimumChargeMicros ? cloudMinimum : row.minimumChargeMicros;
  return {
    billingGranularitySeconds: lcm(Math.max(1, row.billingGranularitySeconds), Math.max(1, rule.incrementSeconds)),
    minimumChargeMicros: minimum,
    billedWhileStopped: rule.whileStopped === "full" ? "full" : null,
  };
}

/** What the customer reads on a stopped instance that keeps billing, and in the stop's answer. */
export function billedWhileStoppedNote(provider: string, whileStopped: string | null): string | null {
  if (whileStopped !== "full") return null;
  return `${provider} keeps charging a stopped instance its full price, so it keeps billing at the full price while stopped; delete it to stop billing`;
}

/**
 * The cloud's own billed seconds for a run of `seconds` under its rule, as the cloud rounds them: up to its increment,
 * at least its minimum. The upstream cost the ledger keeps beside each charge is this at the launch price.
 */
export function cloudBilledSeconds(
  rule: Pick<UpstreamBillingRule, "incrementSeconds" | "minimumSeconds">,
  seconds: number,
) {
  if (seconds <= 0) return 0;
  const inc = Math.max(1, rule.incrementSeconds);
  return Math.max(Math.ceil(seconds / inc) * inc, rule.minimumSeconds);
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

function lcm(a: number, b: number): number {
  return (a / gcd(a, b)) * b;
}

function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}
