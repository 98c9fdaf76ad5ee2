// A small client for gpuplane's /api/v1: the envelope {code,data} / {code,error}, the key in sessionStorage.

const storageKey = "gpuplane.api_key";

export interface PageMeta {
  total?: number;
  cursor?: string | null;
  has_more?: boolean;
}

export interface Envelope<T> {
  code: string;
  data: T;
  meta?: PageMeta;
}

/** An error the server answered with (status, its code, its message), or a network failure (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The error body's other fields (a 409 for capacity points at the waitlist here). */
    readonly details: Record<string, unknown> = {},
    /** Seconds the server asked to wait (`Retry-After` on a 429 or 503). */
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

/** Worth asking again by itself: the server was busy, rate limited or unreachable, not a refusal of the request. */
export const isTransient = (error: unknown) =>
  error instanceof ApiError && (error.status === 0 || error.status === 429 || error.status >= 500);

export const storedKey = () => sessionStorage.getItem(storageKey);
export const storeKey = (key: string) => sessionStorage.setItem(storageKey, key);
export const forgetKey = () => sessionStorage.removeItem(storageKey);

/** Called when the server answers 401 to a stored key (revoked or expired): the app goes back to the login page. */
let onUnauthorized: () => void = () => {};
export const setUnauthorizedHandler = (handler: () => void) => {
  onUnauthorized = handler;
};

export async function request<T>(
  method: string,
  path: string,
  body?: unknown,
  key = storedKey(),
): Promise<Envelope<T>> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (key) headers["x-api-key"] = key;
  if (body !== undefined) headers["content-type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "NETWORK", "cannot reach the server");
  }
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = { code: "INTERNAL", error: text.slice(0, 200) || res.statusText };
  }
  if (!res.ok) {
    if (res.status === 401 && key && key === storedKey()) onUnauthorized();
    const retryAfter = Number(res.headers.get("retry-after")) || undefined;
    throw new ApiError(
      res.status,
      json?.code ?? "ERROR",
      json?.error ?? json?.message ?? res.statusText,
      json ?? {},
      retryAfter,
    );
  }
  if (method !== "GET") afterChange();
  return json as Envelope<T>;
}

/** Called after every successful change (POST, PATCH, DELETE): shared reads that it may have moved refresh. */
let afterChange: () => void = () => {};
export const setChangeHandler = (handler: () => void) => {
  afterChange = handler;
};

export const api = {
  get: <T>(path: string) => request<T>("GET", path),
  post: <T>(path: string, body?: unknown) => request<T>("POST", path, body ?? {}),
  patch: <T>(path: string, body: unknown) => request<T>("PATCH", path, body),
  del: <T>(path: string) => request<T>("DELETE", path),
};

export const errorMessage = (error: unknown) =>
  error instanceof ApiError ? error.message : error instanceof Error ? error.message : String(error);
