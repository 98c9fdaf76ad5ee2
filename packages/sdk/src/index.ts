/**
 * @gpuplane/sdk — a typed client for the gpuplane API. The types come from the API's OpenAPI document
 * (`npm run generate -w @gpuplane/sdk`); nothing here imports Node-only modules, so browsers can bundle it.
 */
export { createGpuplane, type GpuplaneClient, type GpuplaneOptions, unwrap } from "./client.js";
export {
  AuthenticationError,
  BadRequestError,
  ConflictError,
  ConnectionError,
  errorFromResponse,
  GpuplaneError,
  InstanceStateError,
  InsufficientCreditsError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitedError,
  ServerError,
  WaitTimeoutError,
} from "./errors.js";
export type { components, operations, paths } from "./generated/schema.js";
export { collect, type PageMeta, paginate } from "./pagination.js";
export { newIdempotencyKey, type RetryOptions, retryingFetch } from "./retry.js";
export { type Instance, type InstanceStatus, type WaitOptions, waitForInstance } from "./wait.js";
export { type VerifyOptions, verifyWebhook, WebhookVerificationError } from "./webhooks.js";

import type { components } from "./generated/schema.js";

/** A schema of the API by name: `Schema<"Instance">`, `Schema<"Offer">`. */
export type Schema<Name extends keyof components["schemas"]> = components["schemas"][Name];
