import type { UpstreamName } from "./types.js";

/**
 * Why an upstream call failed, as callers branch on it:
 * - capacity: the cloud has no room for this type here now (fail over to the next offer);
 * - auth: the credential is wrong or revoked (an operator problem, never a customer 500);
 * - transient: 5xx, 429 past its retries, a timeout or a refused connection (retry later; the launch may have happened);
 * - rejected: the cloud refused the request itself (4xx);
 * - malformed: an answer that does not parse, an unknown shape, or HTTP 200 carrying an error.
 */
export type UpstreamErrorKind = "capacity" | "auth" | "transient" | "rejected" | "malformed" | "gone";

export class UpstreamError extends Error {
  constructor(
    readonly provider: UpstreamName,
    readonly kind: UpstreamErrorKind,
    message: string,
    /** The provider's request id (from its response headers), for the operator's log and the provider's support. */
    readonly requestId: string | null = null,
    readonly httpStatus: number | null = null,
  ) {
    super(`${provider}: ${message}`);
    this.name = "UpstreamError";
  }
}
