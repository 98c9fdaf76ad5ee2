/**
 * Typed errors: one class per error code a caller branches on, each carrying the server's `code`, its message, the
 * HTTP status and the `request_id` to quote in a support ticket. Extra fields of the error body (e.g. the waitlist
 * pointer on a capacity conflict) are kept in `details`.
 */
export class GpuplaneError extends Error {
  override name = "GpuplaneError";
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly requestId: string | null,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export class BadRequestError extends GpuplaneError {
  override name = "BadRequestError";
}
export class AuthenticationError extends GpuplaneError {
  override name = "AuthenticationError";
}
export class InsufficientCreditsError extends GpuplaneError {
  override name = "InsufficientCreditsError";
}
export class PermissionDeniedError extends GpuplaneError {
  override name = "PermissionDeniedError";
}
export class NotFoundError extends GpuplaneError {
  override name = "NotFoundError";
}
export class ConflictError extends GpuplaneError {
  override name = "ConflictError";
}
export class RateLimitedError extends GpuplaneError {
  override name = "RateLimitedError";
}
export class ServerError extends GpuplaneError {
  override name = "ServerError";
}

/** A failure before any answer came back (connection refused, reset, DNS), after the SDK's own retries. */
export class ConnectionError extends Error {
  override name = "ConnectionError";
  constructor(
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}

/** `waitForInstance` gave up: the time ran out before the instance reached the wanted state. */
export class WaitTimeoutError extends Error {
  override name = "WaitTimeoutError";
  constructor(
    message: string,
    readonly lastStatus: string | undefined,
  ) {
    super(message);
  }
}

/** `waitForInstance` ended because the instance reached a state it cannot leave (`failed`, `deleted`). */
export class InstanceStateError extends Error {
  override name = "InstanceStateError";
  constructor(
    message: string,
    readonly status: string,
  ) {
    super(message);
  }
}

const classes: Record<number, typeof GpuplaneError> = {
  400: BadRequestError,
  401: AuthenticationError,
  402: InsufficientCreditsError,
  403: PermissionDeniedError,
  404: NotFoundError,
  409: ConflictError,
  422: ConflictError,
  429: RateLimitedError,
};

/** The typed error for a non-2xx response, from the API's `{code, error, request_id, …}` body. */
export async function errorFromResponse(response: Response): Promise<GpuplaneError> {
  const text = await response.clone().text();
  let body: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(text);
    if (parsed && typeof parsed === "object") body = parsed;
  } catch {
    // Not the API's envelope (a proxy's HTML page): the status line and the start of the text stand in.
  }
  const { code, error, request_id, ...details } = body;
  const message =
    typeof error === "string" ? error : `HTTP ${response.status} ${response.statusText} ${text.slice(0, 200)}`.trim();
  const requestId = typeof request_id === "string" ? request_id : response.headers.get("x-request-id");
  const Class = classes[response.status] ?? (response.status >= 500 ? ServerError : GpuplaneError);
  return new Class(
    message,
    response.status,
    typeof code === "string" ? code : `HTTP_${response.status}`,
    requestId,
    details,
  );
}
