/**
 * When to try again. The first attempt goes out at once; after the n-th failure the next waits `retryDelaysMs[n-1]`
 * (± 20 % jitter, so a receiver coming back is not hit by every queued delivery in the same second). After the last
 * delay the delivery is marked failed: 9 attempts over about 22 hours.
 */
export const retryDelaysMs = [
  5_000, // 5 s
  30_000, // 30 s
  120_000, // 2 min
  600_000, // 10 min
  3_600_000, // 1 h
  3 * 3_600_000, // 3 h
  6 * 3_600_000, // 6 h
  12 * 3_600_000, // 12 h
];

/** A receiver failing every attempt for this long is disabled (a success in between starts the count again). */
export const disableAfterFailingMs = 24 * 3_600_000;

export const defaultDeliveryOptions = {
  /** A receiver has this long to answer; it counts as a failed attempt after. */
  timeoutMs: 10_000,
  /** Requests in flight at once per replica. */
  concurrency: 32,
  /**
   * How long a tick stays for more work once the outbox is empty. The loop's worker keeps it hot under a stream of
   * events (no lock round trip and re-scheduling per event); tests use 0 to return at once.
   */
  lingerMs: 0,
};
export type DeliveryOptions = typeof defaultDeliveryOptions;

/** A claimed delivery is not claimed again for this long past its timeout, in case its replica dies mid-attempt. */
export const leaseMarginMs = 60_000;

/** Delay before attempt `attempts + 1`, given `attempts` failed ones; undefined when there is no next attempt. */
export function nextDelayMs(attempts: number, random: () => number = Math.random): number | undefined {
  const base = retryDelaysMs[attempts - 1];
  if (base === undefined) return undefined;
  return Math.round(base * (0.8 + 0.4 * random()));
}
