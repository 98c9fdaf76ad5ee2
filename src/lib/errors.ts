/**
 * The one closed set of error codes (those listed in docs/api.md), mapped to HTTP once, here.
 * Domain code throws ApiError; only the app's error handler (`onError` in src/http/app.ts) turns it into a body.
 */
export const errorStatus = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  INSUFFICIENT_CREDITS: 402,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  GONE: 410,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNPROCESSABLE: 422,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  BAD_GATEWAY: 502,
  UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof errorStatus;

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra fields for the error body (e.g. `waitlist` hints on a capacity conflict). */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "ApiError";
  }
  get status(): number {
    return errorStatus[this.code];
  }
}

/**
 * Failures callers branch on, as classes: `error instanceof NoCapacity` rather than sniffing a message or `details`.
 * Each is still an ApiError, so the HTTP mapping stays in one place.
 */

/** No GPU is free for the request right now (the waitlist can take it). */
export class NoCapacity extends ApiError {
  constructor(message: string, details?: Record<string, unknown>) {
    super("CONFLICT", message, details);
    this.name = "NoCapacity";
  }
}

/** The request would take a tenant past its GPU quota. */
export class OverQuota extends ApiError {
  constructor(message: string, details?: Record<string, unknown>) {
    super("CONFLICT", message, details);
    this.name = "OverQuota";
  }
}

/** A unique name or key is already taken. */
export class UniqueViolation extends ApiError {
  constructor(message: string, details?: Record<string, unknown>) {
    super("CONFLICT", message, details);
    this.name = "UniqueViolation";
  }
}

/** The resource is not in a state that allows the action (stopping a stopped instance, revoking the last key…). */
export class InvalidState extends ApiError {
  constructor(message: string, details?: Record<string, unknown>) {
    super("CONFLICT", message, details);
    this.name = "InvalidState";
  }
}

/** PostgreSQL's unique_violation, as node-postgres and PGlite report it (directly or as a Drizzle error's cause). */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; cause?: { code?: string } } | undefined;
  return e?.code === "23505" || e?.cause?.code === "23505";
}

/**
 * PostgreSQL's foreign_key_violation as the caller's mistake: naming a tenant that does not exist is a 404 ("tenant
 * not found", as for any other unknown tenant), naming another record that does not exist (a region in
 * `region_prices`) a 400 that names it, and deleting a record still referenced a 409. Undefined for other errors.
 * The statement failed, so its transaction wrote nothing.
 */
export function foreignKeyError(error: unknown): ApiError | undefined {
  const e = error as { code?: string; detail?: string; cause?: { code?: string; detail?: string } } | undefined;
  const pg = e?.code === "23503" ? e : e?.cause?.code === "23503" ? e.cause : undefined;
  if (!pg) return undefined;
  const missing = /Key \(([\w, ]+)\)=\((.*)\) is not present in table "(\w+)"/.exec(pg.detail ?? "");
  if (!missing) return new ApiError("CONFLICT", "this record is still referenced by others");
  const [, column, value, table] = missing;
  if (table === "tenants") return notFound("tenant");
  return badRequest(`${column.replace(/_id$/, "")} ${value} does not exist`);
}

export const badRequest = (message: string, details?: Record<string, unknown>) =>
  new ApiError("BAD_REQUEST", message, details);
export const notFound = (what: string) => new ApiError("NOT_FOUND", `${what} not found`);
export const conflict = (message: string, details?: Record<string, unknown>) =>
  new ApiError("CONFLICT", message, details);
