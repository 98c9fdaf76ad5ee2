import type { BodyFor, Method, PathFor, ReplyFor } from "./wire.js";

/** A failure to reach the server (network, timeout, 5xx, 429): the request may be retried later as it is. */
export class Unreachable extends Error {
  override name = "Unreachable";
}

/** The server answered and refused (4xx): retrying the same request will not help. */
export class Refused extends Error {
  override name = "Refused";
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export interface RequestOptions<Body> {
  body?: Body;
  query?: Record<string, string>;
  idempotencyKey?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * The gpuplane API as the agent uses it: JSON in, the envelope's `data` out, errors sorted into retry or not. Paths,
 * bodies and replies are typed by the API's OpenAPI document (./wire.ts).
 */
export class ApiClient {
  readonly server: string;
  key: string | undefined;

  constructor(server: string, key?: string) {
    this.server = server.replace(/\/+$/, "");
    this.key = key;
  }

  async request<M extends Method, S extends PathFor<M>>(
    method: M,
    path: S,
    options: RequestOptions<BodyFor<M, S>> = {},
  ): Promise<ReplyFor<M, S>> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.key) headers.authorization = `Bearer ${this.key}`;
    if (options.body !== undefined) headers["content-type"] = "application/json";
    if (options.idempotencyKey) headers["idempotency-key"] = options.idempotencyKey;
    const timeout = AbortSignal.timeout(options.timeoutMs ?? 30_000);
    const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
    let res: Response;
    try {
      const query = options.query ? `?${new URLSearchParams(options.query)}` : "";
      res = await fetch(`${this.server}/api/v1${path}${query}`, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal,
      });
    } catch (error) {
      throw new Unreachable(`${method} ${path}: ${(error as Error).message}`);
    }
    const text = await res.text().catch(() => "");
    let json: { code?: string; data?: ReplyFor<M, S>; error?: string } | undefined;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    // 409 on an Idempotency-Key means "the first copy is still being processed": retry later, same key.
    if (res.status >= 500 || res.status === 429 || (res.status === 409 && options.idempotencyKey)) {
      throw new Unreachable(`${method} ${path}: ${res.status} ${json?.error ?? text.slice(0, 200)}`);
    }
    if (!res.ok) {
      throw new Refused(
        res.status,
        json?.code ?? String(res.status),
        `${method} ${path}: ${res.status} ${json?.error ?? text.slice(0, 200)}`,
      );
    }
    return json?.data as ReplyFor<M, S>;
  }
}
