/**
 * A circuit breaker per upstream: after `threshold` failures in a row it opens for `openMs`, and calls that need the
 * upstream now are refused at once (502) instead of waiting on a cloud that is down. After the pause one call is let
 * through; its success closes the breaker, its failure opens it again.
 */
export class CircuitBreaker {
  private failures = 0;
  private openUntil = 0;

  constructor(
    private now: () => number,
    private threshold = 5,
    private openMs = 30_000,
  ) {}

  get open(): boolean {
    return this.openUntil > this.now();
  }

  success(): void {
    this.failures = 0;
    this.openUntil = 0;
  }

  failure(): void {
    this.failures++;
    if (this.failures >= this.threshold) this.openUntil = this.now() + this.openMs;
  }

  reset(): void {
    this.success();
  }
}
