/**
 * `createGpuplane(...)`: an openapi-fetch client over the generated `paths`, with the key in both of the API's auth
 * headers' forms, retries and idempotency keys (retry.ts), and every non-2xx answer thrown as a typed error
 * (errors.ts). No Node-only imports: the same client runs in a browser bundle.
 */
import createClient, { type Client, type Middleware } from "openapi-fetch";
import { errorFromResponse } from "./errors.js";
import type { paths } from "./generated/schema.js";
import { type RetryOptions, retryingFetch } from "./retry.js";

export interface GpuplaneOptions extends RetryOptions {
  /** The server's root URL, e.g. `https://gpus.example.com` (the SDK adds `/api/v1/...`). */
  baseUrl: string;
  /** An API key; omit for the public routes (offers, sign-up) or when a browser session sends a cookie. */
  apiKey?: string;
  /** Which of the API's two auth headers carries the key (default `x-api-key`; both are accepted). */
  authHeader?: "x-api-key" | "bearer";
  /** Headers sent on every request (e.g. a User-Agent from a CLI). */
  headers?: Record<string, string>;
  /** The fetch to use (default: globalThis.fetch); tests and proxies pass their own. */
  fetch?: (request: Request) => Promise<Response>;
}

export type GpuplaneClient = Client<paths>;

/** Turns every non-2xx answer into a typed GpuplaneError carrying code, message and request id. */
const throwOnError: Middleware = {
  async onResponse({ response }) {
    if (!response.ok) throw await errorFromResponse(response);
    return undefined;
  },
};

export function createGpuplane(options: GpuplaneOptions): GpuplaneClient {
  const headers: Record<string, string> = { ...options.headers };
  if (options.apiKey) {
    if (options.authHeader === "bearer") headers.authorization = `Bearer ${options.apiKey}`;
    else headers["x-api-key"] = options.apiKey;
  }
  const api = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ""),
    headers,
    fetch: retryingFetch(options, options.fetch),
  });
  api.use(throwOnError);
  return api;
}

type EnvelopeData<R> = NonNullable<R> extends { data: infer D } ? D : NonNullable<R>;

/**
 * The `data` of the API's `{code, data}` envelope from an openapi-fetch call, typed from the document:
 * `const instance = await unwrap(api.GET("/api/v1/instances/{id}", { params: { path: { id } } }))`.
 * The client already threw on an error, so the data is there.
 */
export async function unwrap<R extends { data?: unknown }>(call: Promise<R>): Promise<EnvelopeData<R["data"]>> {
  const { data } = await call;
  const body = data as { data?: unknown } | undefined;
  return (body && typeof body === "object" && "data" in body ? body.data : body) as EnvelopeData<R["data"]>;
}
