/**
 * The SDK's fetch: adds an `Idempotency-Key` to every POST and DELETE that lacks one and keeps it across its own
 * retries, so a create retried after a lost answer is done once; retries 429 (after `Retry-After`), 502, 503, 504
 * and network errors with exponential backoff and jitter.
 */
import { ConnectionError } from "./errors.js";

export interface RetryOptions {
  /** Retries after the first attempt (default 3). */
  maxRetries?: number;
  /** First backoff in ms, doubled each retry (default 250). */
  baseDelayMs?: number;
  /** Longest single wait, also the cap on a server's Retry-After (default 20 000). */
  maxDelayMs?: number;
}

const RETRY_STATUSES = new Set([429, 502, 503, 504]);
const IDEMPOTENT_BY_KEY = new Set(["POST", "DELETE"]);

export function newIdempotencyKey(): string {
  return `gp-${crypto.randomUUID()}`;
}

export function retryingFetch(
  options: RetryOptions = {},
  baseFetch: (request: Request) => Promise<Response> = (request) => globalThis.fetch(request),
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): (request: Request) => Promise<Response> {
  const maxRetries = options.maxRetries ?? 3;
  const base = options.baseDelayMs ?? 250;
  const cap = options.maxDelayMs ?? 20_000;
  return async (request) => {
    if (IDEMPOTENT_BY_KEY.has(request.method) && !request.headers.has("idempotency-key")) {
      request.headers.set("idempotency-key", newIdempotencyKey());
    }
    // The body can be read once per Request: keep it as bytes and build a fresh Request for each attempt.
    const body = request.body ? await request.arrayBuffer() : undefined;
    for (let attempt = 0; ; attempt++) {
      const backoff = Math.min(cap, base * 2 ** attempt) * (0.5 + Math.random() / 2);
      let response: Response;
      try {
        response = await baseFetch(new Request(request, { body }));
      } catch (error) {
        if (attempt >= maxRetries || request.signal?.aborted) {
          throw new ConnectionError(`${request.method} ${request.url}: ${(error as Error).message}`, error);
        }
        await sleep(backoff);
        continue;
      }
      if (!RETRY_STATUSES.has(response.status) || attempt >= maxRetries) return response;
      await response.body?.cancel();
      await sleep(Math.min(cap, retryAfterMs(response.headers.get("retry-after")) ?? backoff));
    }
  };
}

/** `Retry-After` as seconds or an HTTP date, in ms; undefined when absent or unreadable. */
function retryAfterMs(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
