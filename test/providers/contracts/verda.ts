import { z } from "zod";
import type { CloudContract } from "./contract.js";

/**
 * Verda's public API (formerly DataCrunch), `https://api.verda.com/v1`, as its official SDKs and CLI state it. Verda
 * publishes no OpenAPI document in a repository; the facts here are read from:
 *
 * - Python SDK `verda-cloud/sdk-python` 1.24.0 (commit 164e09ac65a40a270db66b6f22a7edc4256e764a, 2026-04-17):
 *   `verda/instances/_instances.py` (create payload, `action` with `volume_ids` / `delete_permanently`, the `Pricing`
 *   and `Contract` literals), `verda/instance_types/_instance_types.py` (`GET /instance-types?currency=`),
 *   `verda/volumes/_volumes.py`, `verda/ssh_keys/_ssh_keys.py`, `verda/constants.py` (statuses, actions, error codes,
 *   `Currency = usd | eur`), `verda/http_client/_http_client.py` (errors `{code, message}` on any status ≥ 400),
 *   `verda/authentication/_authentication.py` (`POST /oauth2/token`);
 * - Go SDK `verda-cloud/verdacloud-sdk-go` v1.4.1-6 (commit ca1aa5cdc57b3f7e81792f3255bc300640b3500c, 2026-08-13):
 *   `pkg/verda/instances_types.go` (the full status list, `CreateInstanceRequest`, `InstanceActionRequest`, action
 *   results of a 202/207), `pkg/verda/instances.go` (a create answers the id as plain text; an action answers 204, or
 *   202/207 with one result per instance), `pkg/verda/instance_types.go` (`dynamic_price`, `max_dynamic_price`),
 *   `pkg/verda/volumes_types.go`, `pkg/verda/errors.go`;
 * - CLI `verda-cloud/verda-cli` v1.7.2 (commit 7ae17867790b63ae159e382b438ae058d43b0865): `internal/verda-cli/cmd/util/
 *   hostname.go` (the web console's hostname rule: letters, digits and hyphens, at least one letter, no hyphen at either
 *   end), `cmd/vm/action.go` ("Shutdown instances continue to charge your account"; a delete names the volumes that go,
 *   "Storage not marked for deletion will continue to charge your account").
 *
 * Only the operations gpuplane uses are written here. Request bodies refuse fields neither SDK sends.
 */
export const VERDA_SOURCE =
  "Verda SDKs: verda-cloud/sdk-python 1.24.0 @ 164e09ac, verda-cloud/verdacloud-sdk-go @ ca1aa5cd, verda-cloud/verda-cli v1.7.2 @ 7ae17867";

/** Instance statuses: Go SDK `instances_types.go` plus the Python SDK's hibernation statuses (`constants.py`). */
export const verdaStatuses = [
  "new",
  "ordered",
  "provisioning",
  "validating",
  "running",
  "offline",
  "pending",
  "discontinued",
  "unknown",
  "notfound",
  "error",
  "deleting",
  "no_capacity",
  "starting_hibernation",
  "hibernating",
  "restoring",
] as const;
/** Instance actions (`InstanceActionRequest.Validate`, Python `Actions`). */
export const verdaActions = [
  "boot",
  "start",
  "shutdown",
  "delete",
  "discontinue",
  "hibernate",
  "restore",
  "configure_spot",
  "force_shutdown",
  "delete_stuck",
  "deploy",
  "transfer",
] as const;
/** Volume statuses (Python `VolumeStatus`). */
export const verdaVolumeStatuses = [
  "ordered",
  "creating",
  "attached",
  "detached",
  "deleting",
  "deleted",
  "cloning",
] as const;
/** Volume actions (Python `VolumeActions`). */
export const verdaVolumeActions = ["attach", "detach", "rename", "resize", "delete", "clone"] as const;
/** Error codes (Python `ErrorCodes`). */
export const verdaErrorCodes = [
  "invalid_request",
  "unauthorized_request",
  "insufficient_funds",
  "forbidden_action",
  "not_found",
  "server_error",
  "service_unavailable",
] as const;
export const verdaPricing = ["DYNAMIC_PRICE", "FIXED_PRICE"] as const;
export const verdaContracts = ["LONG_TERM", "PAY_AS_YOU_GO", "SPOT"] as const;
export const verdaCurrencies = ["usd", "eur"] as const;

/**
 * The hostname rule the CLI enforces, quoting Verda's web console: letters, digits and hyphens, at least one letter,
 * no hyphen first or last. No underscore, no dot.
 */
export const VERDA_HOSTNAME = /^(?!-)(?!.*-$)[a-zA-Z0-9-]*[a-zA-Z][a-zA-Z0-9-]*$/;

/** `{code, message}` on every status ≥ 400 (the Go SDK also reads an optional `details`). */
export const verdaError = z
  .object({ code: z.enum(verdaErrorCodes), message: z.string(), details: z.string().optional() })
  .strict();

/** Prices come as JSON numbers or decimal strings (the Go SDK's `FlexibleFloat`). */
const price = z.union([z.number(), z.string().regex(/^\d+(\.\d+)?$/)]);
const described = z.object({ description: z.string(), number_of_cores: z.number().int() }).strict();
const gpu = z.object({ description: z.string(), number_of_gpus: z.number().int() }).strict();
const memory = z.object({ description: z.string(), size_in_gigabytes: z.number() }).strict();
const storage = z.object({ description: z.string(), size_in_gigabytes: z.number().optional() }).strict();
const tag = z.object({ key: z.string(), value: z.string() }).strict();

const instanceType = z
  .object({
    id: z.string(),
    instance_type: z.string(),
    price_per_hour: price,
    spot_price: price,
    dynamic_price: price.optional(),
    max_dynamic_price: price.optional(),
    serverless_price: price.nullable().optional(),
    serverless_spot_price: price.nullable().optional(),
    description: z.string(),
    cpu: described,
    gpu,
    memory,
    gpu_memory: memory,
    storage,
    best_for: z.array(z.string()),
    model: z.string(),
    name: z.string(),
    p2p: z.string(),
    currency: z.enum(verdaCurrencies),
    manufacturer: z.string(),
    display_name: z.string(),
    supported_os: z.array(z.string()),
    deploy_warning: z.string().nullable().optional(),
  })
  .strict();

const instance = z
  .object({
    id: z.string(),
    instance_type: z.string(),
    price_per_hour: price,
    hostname: z.string(),
    description: z.string(),
    status: z.enum(verdaStatuses),
    created_at: z.iso.datetime(),
    ssh_key_ids: z.array(z.string()),
    cpu: described,
    gpu,
    memory,
    gpu_memory: memory,
    storage,
    ip: z.string().nullable(),
    os_volume_id: z.string().nullable(),
    location: z.string(),
    image: z.string(),
    os_name: z.string().optional(),
    startup_script_id: z.string().nullable(),
    is_spot: z.boolean(),
    contract: z.enum(verdaContracts).nullable().optional(),
    pricing: z.enum(verdaPricing).nullable().optional(),
    jupyter_token: z.string().optional(),
    volume_ids: z.array(z.string()).optional(),
    tags: z.array(tag).optional(),
  })
  .strict();

const volumeCreate = z
  .object({
    type: z.enum(["NVMe", "HDD", "NVMe_Shared"]),
    name: z.string().min(1),
    size: z.number().int().min(1),
    location_code: z.string().optional(),
    instance_id: z.string().nullable().optional(),
    instance_ids: z.array(z.string()).optional(),
    on_spot_discontinue: z.enum(["keep_detached", "move_to_trash", "delete_permanently"]).optional(),
    tags: z.array(tag).max(10).optional(),
  })
  .strict();

const createInstance = z
  .object({
    instance_type: z.string().min(1),
    image: z.string().min(1),
    hostname: z
      .string()
      .regex(VERDA_HOSTNAME, "letters, digits and hyphens only, with a letter, no hyphen at either end"),
    description: z.string().min(1),
    ssh_key_ids: z.array(z.string()).optional(),
    location_code: z.string().optional(),
    startup_script_id: z.string().nullable().optional(),
    os_volume: z
      .object({
        name: z.string().min(1),
        size: z.number().int().min(1),
        on_spot_discontinue: z.enum(["keep_detached", "move_to_trash", "delete_permanently"]).optional(),
      })
      .strict()
      .nullable()
      .optional(),
    volumes: z.array(volumeCreate).optional(),
    existing_volumes: z.array(z.string()).optional(),
    is_spot: z.boolean().optional(),
    contract: z.enum(verdaContracts).optional(),
    pricing: z.enum(verdaPricing).optional(),
    coupon: z.string().nullable().optional(),
    tags: z.array(tag).max(10).optional(),
  })
  .strict();

const instanceAction = z
  .object({
    id: z.union([z.string(), z.array(z.string()).min(1)]),
    action: z.enum(verdaActions),
    volume_ids: z.array(z.string()).nullable().optional(),
    delete_permanently: z.boolean().optional(),
  })
  .strict()
  // Python SDK: delete_permanently "only applicable when volume_ids is also provided".
  .refine((b) => !b.delete_permanently || (b.volume_ids?.length ?? 0) > 0, "delete_permanently goes with volume_ids");

const volume = z
  .object({
    id: z.string(),
    status: z.enum(verdaVolumeStatuses),
    name: z.string(),
    size: z.number().int(),
    type: z.string(),
    is_os_volume: z.boolean(),
    created_at: z.iso.datetime(),
    target: z.string().nullable(),
    location: z.string(),
    instance_id: z.string().nullable(),
    instances: z.array(z.record(z.string(), z.unknown())).nullable().optional(),
    ssh_key_ids: z.array(z.string()),
    contract: z.string().nullable().optional(),
    base_hourly_cost: z.number().optional(),
    monthly_price: z.number().optional(),
    currency: z.enum(verdaCurrencies).optional(),
    deleted_at: z.string().nullable().optional(),
    tags: z.array(tag).optional(),
  })
  .passthrough();

const volumeAction = z
  .object({
    id: z.union([z.string(), z.array(z.string()).min(1)]),
    action: z.enum(verdaVolumeActions),
    is_permanent: z.boolean().optional(),
    name: z.string().nullable().optional(),
    type: z.string().nullable().optional(),
    size: z.number().int().optional(),
    instance_id: z.string().optional(),
    instance_ids: z.array(z.string()).optional(),
    location_code: z.string().optional(),
  })
  .strict();

/** One result per instance of an action answered 202 or 207 (Go `InstanceActionResult`). */
const actionResults = z.array(
  z
    .object({
      action: z.string(),
      instanceId: z.string(),
      status: z.string(),
      error: z.string().optional(),
      statusCode: z.number().int().optional(),
    })
    .strict(),
);

/** A create answers the new id as plain text (Python reads `.text`; Go falls back to it). */
const createdId = z.string().regex(/^"?[0-9a-f-]{8,64}"?$/);
const noBody = z.union([z.undefined(), z.literal("")]);
const errors = { default: verdaError };

export const verdaContract: CloudContract = {
  cloud: "Verda",
  source: VERDA_SOURCE,
  statuses: verdaStatuses,
  errorCodes: verdaErrorCodes,
  operations: [
    {
      method: "POST",
      path: "/oauth2/token",
      body: z.union([
        z
          .object({ grant_type: z.literal("client_credentials"), client_id: z.string(), client_secret: z.string() })
          .strict(),
        z.object({ grant_type: z.literal("refresh_token"), refresh_token: z.string() }).strict(),
      ]),
      responses: {
        200: z
          .object({
            access_token: z.string(),
            refresh_token: z.string(),
            expires_in: z.number().int(),
            token_type: z.string(),
            scope: z.string(),
          })
          .strict(),
        ...errors,
      },
    },
    {
      method: "GET",
      path: "/instance-types",
      query: z.object({ currency: z.enum(verdaCurrencies).optional() }).strict(),
      responses: { 200: z.array(instanceType), ...errors },
    },
    {
      method: "GET",
      path: "/instance-availability",
      // Python sends isSpot, Go is_spot; both location_code.
      query: z
        .object({
          isSpot: z.enum(["true", "false"]).optional(),
          is_spot: z.enum(["true", "false"]).optional(),
          location_code: z.string().optional(),
        })
        .strict(),
      responses: {
        200: z.array(z.object({ location_code: z.string(), availabilities: z.array(z.string()) }).strict()),
        ...errors,
      },
    },
    {
      method: "GET",
      path: "/images",
      responses: {
        200: z.array(
          z
            .object({
              id: z.string(),
              image_type: z.string(),
              name: z.string(),
              is_default: z.boolean(),
              details: z.array(z.string()),
              category: z.string(),
            })
            .strict(),
        ),
        ...errors,
      },
    },
    {
      method: "GET",
      path: "/instances",
      query: z.object({ status: z.string().optional() }).strict(),
      responses: { 200: z.array(instance), ...errors },
    },
    { method: "GET", path: "/instances/{id}", responses: { 200: instance, ...errors } },
    {
      method: "POST",
      path: "/instances",
      body: createInstance,
      responses: { 200: createdId, 201: createdId, 202: createdId, ...errors },
    },
    {
      method: "PUT",
      path: "/instances",
      body: instanceAction,
      responses: { 202: actionResults, 207: actionResults, 204: noBody, ...errors },
    },
    {
      method: "GET",
      path: "/sshkeys",
      responses: {
        200: z.array(
          z
            .object({
              id: z.string(),
              name: z.string(),
              key: z.string(),
              fingerprint: z.string().optional(),
              created_at: z.string().optional(),
            })
            .strict(),
        ),
        ...errors,
      },
    },
    {
      method: "POST",
      path: "/sshkeys",
      body: z.object({ name: z.string().min(1), key: z.string().min(1) }).strict(),
      responses: { 200: createdId, 201: createdId, ...errors },
    },
    {
      method: "GET",
      path: "/volumes",
      query: z.object({ status: z.string().optional() }).strict(),
      responses: { 200: z.array(volume), ...errors },
    },
    { method: "POST", path: "/volumes", body: volumeCreate, responses: { 200: createdId, 202: createdId, ...errors } },
    {
      method: "PUT",
      path: "/volumes",
      body: volumeAction,
      responses: { 200: noBody, 202: noBody, 204: noBody, ...errors },
    },
  ],
};
