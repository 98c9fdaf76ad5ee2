import { createHash } from "node:crypto";
import type { z } from "zod";
import type { CircuitBreaker } from "./breaker.js";
import { UpstreamError } from "./errors.js";
import type { UpstreamName } from "./types.js";

export interface UpstreamHttpOptions {
  provider: UpstreamName;
  baseUrl: string;
  breaker: CircuitBreaker;
  /** Auth headers for each call (Verda fetches and refreshes an OAuth token here). */
  headers: () => Promise<Record<string, string>>;
  /** Turns a non-2xx answer into the cloud's error: its code and message, and whether it means no capacity. */
  classify: (status: number, body: unknown, text: string) => { kind: UpstreamError["kind"]; message: string };
  timeoutMs?: number;
  /** Attempts per call for what may be retried (429 always; 5xx and timeouts only for idempotent calls). */
  attempts?: number;
  backoffMs?: number;
  /** A Retry-After longer than this is not waited out inside one call: the caller tries again on a later pass. */
  maxRetryAfterMs?: number;
  /** Waited on before each request is sent, retries included: a cloud's own pacing (Lambda's rate limits). */
  pace?: (method: string, path: string) => Promise<void>;
}

export interface CallOptions {
  body?: unknown;
  /** A POST that launches something is not idempotent: a timeout may hide a launch, so it is not blindly resent. */
  idempotent?: boolean;
  /** Expect a plain-text answer (Verda answers a new id as text). */
  text?: boolean;
}

const REQUEST_ID_HEADERS = ["x-request-id", "request-id", "x-amzn-requestid", "cf-ray"];

/**
 * One HTTP client for every upstream: a timeout on each call, retries with exponential backoff and jitter on 5xx,
 * timeouts and refused connections (for idempotent calls), 429s honoured with their Retry-After, a circuit breaker,
 * and errors that carry the provider's request id. Secrets go in headers only and are never put in an error.
 */
export class UpstreamHttp {
  readonly baseUrl: string;
  private timeoutMs: number;
  private attempts: number;
  private backoffMs: number;
  private maxRetryAfterMs: number;

  constructor(private options: UpstreamHttpOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.attempts = options.attempts ?? 3;
    this.backoffMs = options.backoffMs ?? 250;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 15_000;
  }

  async call<T = unknown>(method: string, path: string, options: CallOptions = {}): Promise<T> {
    const idempotent = options.idempotent ?? method !== "POST";
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.once(method, path, options);
      if (outcome.ok) {
        this.options.breaker.success();
        return outcome.value as T;
      }
      const { error, retryAfterMs } = outcome;
      // A 429 was refused before anything ran: safe to resend even a launch.
      const retryable = error.kind === "transient" && (idempotent || retryAfterMs !== null);
      if (!retryable || attempt >= this.attempts || (retryAfterMs ?? 0) > this.maxRetryAfterMs) {
        if (error.kind === "transient") this.options.breaker.failure();
        throw error;
      }
      const backoff = this.backoffMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2);
      await sleep(retryAfterMs ?? backoff);
    }
  }

  private async once(
    method: string,
    path: string,
    options: CallOptions,
  ): Promise<{ ok: true; value: unknown } | { ok: false; error: UpstreamError; retryAfterMs: number | null }> {
    const provider = this.options.provider;
    const fail = (kind: UpstreamError["kind"], message: string, requestId: string | null, status: number | null) => ({
      ok: false as const,
      error: new UpstreamError(provider, kind, message, requestId, status),
      retryAfterMs: null,
    });
    await this.options.pace?.(method, path);
    let res: Response;
    try {
      const headers: Record<string, string> = { accept: "application/json", ...(await this.options.headers()) };
      if (options.body !== undefined) headers["content-type"] = "application/json";
      res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      if (error instanceof UpstreamError) return { ok: false, error, retryAfterMs: null };
      const timedOut = (error as Error).name === "TimeoutError";
      return fail(
        "transient",
        timedOut ? `${method} ${path} timed out` : `${method} ${path}: ${causeOf(error)}`,
        null,
        null,
      );
    }
    const requestId = REQUEST_ID_HEADERS.map((h) => res.headers.get(h)).find(Boolean) ?? null;
    const text = await res.text().catch(() => "");
    if (res.status === 429) {
      return {
        ...fail("transient", `${method} ${path}: rate limited (429)`, requestId, 429),
        retryAfterMs: retryAfter(res),
      };
    }
    let body: unknown = text;
    if (!options.text || !res.ok) {
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        if (res.ok) return fail("malformed", `${method} ${path}: answer is not JSON`, requestId, res.status);
      }
    }
    if (!res.ok) {
      const { kind, message } = this.options.classify(res.status, body, text);
      // A 5xx is worth retrying unless its body says plainly there is no capacity (RunPod answers that with a 500).
      if (res.status >= 500 && kind !== "capacity") {
        return fail("transient", `${method} ${path}: HTTP ${res.status}`, requestId, res.status);
      }
      return fail(kind, message, requestId, res.status);
    }
    return { ok: true, value: body };
  }
}

/** Retry-After in seconds or as an HTTP date; 1 s when a 429 names none. */
function retryAfter(res: Response): number {
  const value = res.headers.get("retry-after");
  if (!value) return 1_000;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? 1_000 : Math.max(0, at - Date.now());
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string } }).cause;
  return cause?.code ?? (error as Error).message;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An upstream answer that is not the shape we know, as a malformed error (logged; the instance keeps its state). */
export function malformed(provider: UpstreamName, what: string): UpstreamError {
  return new UpstreamError(provider, "malformed", `unexpected answer: ${what}`);
}

/** Parses an upstream answer with its schema; anything else (HTTP 200 with an error body, a new shape) is malformed. */
export function parseAnswer<T>(provider: UpstreamName, schema: z.ZodType<T>, body: unknown, what: string): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw malformed(provider, `${what}: ${issue?.path.join(".") || "body"} ${issue?.message}`);
}

/**
 * Spaces calls out in time: each `wait(interval)` returns no sooner than `interval` after the previous one's turn. One
 * pacer per account is shared by every adapter of that account in this process (`pacerFor`); replicas each pace
 * themselves, and a 429 that still comes is waited out by its Retry-After.
 */
export class Pacer {
  private next = 0;

  wait(intervalMs: number): Promise<void> {
    return Pacer.together([this, intervalMs]);
  }

  /**
   * One turn that keeps several paces at once (Lambda's launch: one launch per 12 s and one request per second): the
   * first moment every pacer allows, taken in all of them.
   */
  static async together(...paces: [Pacer, number][]): Promise<void> {
    const live = paces.filter(([, interval]) => interval > 0);
    if (!live.length) return;
    const now = Date.now();
    const at = Math.max(now, ...live.map(([p]) => p.next));
    for (const [p, interval] of live) p.next = at + interval;
    if (at > now) await sleep(at - now);
  }
}

const pacers = new Map<string, Pacer>();

/** The pacer of one account (a key naming the cloud, its URL and the credential's hash, never the credential). */
export function pacerFor(provider: UpstreamName, baseUrl: string, secret: string, what: string): Pacer {
  const key = `${provider} ${baseUrl} ${createHash("sha256").update(secret).digest("hex")} ${what}`;
  const pacer = pacers.get(key) ?? new Pacer();
  pacers.set(key, pacer);
  return pacer;
}

/** The name an SSH key is registered under upstream: stable per key, so a restart reuses it. */
export function keyName(publicKey: string): string {
  return `gp-${createHash("sha256").update(publicKey.trim()).digest("hex").slice(0, 12)}`;
}
