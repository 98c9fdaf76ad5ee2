import { z } from "zod";
import type { CloudContract } from "./contract.js";

/**
 * Lambda Cloud's API as its OpenAPI document states it: "Lambda Cloud API" version 1.10.0
 * (`info.version`), read from the mirror api-evangelist/lambda-labs `openapi/_original/lambda-labs-openapi.json`
 * (commit 911506f428e4dfac3a26abca3e18fdb2d823aa1d, 2026-08-22). Paths are relative to the base URL
 * `https://cloud.lambda.ai/api/v1`. Only the operations gpuplane uses are written here, each with the fields and
 * types the document gives; request bodies refuse fields it does not list (Lambda would at best ignore them).
 *
 * Not in the document, from other sources: the rate limits (about 1 request/s, 1 launch per 12 s; past them HTTP 429
 * from Cloudflare with a plain-text body and Retry-After: SkyPilot `sky/provision/lambda_cloud/lambda_utils.py`,
 * Lambda's cloud-api docs page it cites) and the duplicate key name's wording, `global/invalid-parameters` "Key name
 * must be unique" (SkyPilot issue #1837).
 */
export const LAMBDA_SOURCE =
  "Lambda Cloud API OpenAPI 1.10.0 (api-evangelist/lambda-labs openapi/_original/lambda-labs-openapi.json @ 911506f4)";

/** InstanceStatus. */
export const lambdaStatuses = ["booting", "active", "unhealthy", "terminated", "terminating", "preempted"] as const;

/** The `error.code` values of the ApiError* schemas. */
export const lambdaErrorCodes = [
  "global/invalid-api-key",
  "global/account-inactive",
  "global/invalid-address",
  "global/forbidden",
  "global/invalid-parameters",
  "global/object-does-not-exist",
  "global/not-found",
  "global/quota-exceeded",
  "global/conflict",
  "global/duplicate",
  "global/internal-error",
  "instance-operations/launch/insufficient-capacity",
  "instance-operations/launch/file-system-in-wrong-region",
] as const;

/** Limits Lambda enforces (see above; not in the OpenAPI document). */
export const lambdaLimits = { requestIntervalMs: 1_000, launchIntervalMs: 12_000 } as const;

/** The message Lambda gives a second key of the same name (SkyPilot #1837). */
export const DUPLICATE_KEY_MESSAGE = "Key name must be unique";

type Code = (typeof lambdaErrorCodes)[number];
const errorOf = (...codes: [Code, ...Code[]]) =>
  z
    .object({
      error: z.object({ code: z.enum(codes), message: z.string(), suggestion: z.string().optional() }).strict(),
    })
    .strict();

const region = z.object({ name: z.string(), description: z.string() }).strict();
const instanceType = z
  .object({
    name: z.string(),
    description: z.string(),
    gpu_description: z.string(),
    price_cents_per_hour: z.number().int(),
    specs: z
      .object({
        vcpus: z.number().int(),
        memory_gib: z.number().int(),
        storage_gib: z.number().int(),
        gpus: z.number().int(),
      })
      .strict(),
  })
  .strict();
const actionAvailability = z
  .object({ available: z.boolean(), reason_code: z.string().optional(), reason_description: z.string().optional() })
  .strict();
const instance = z
  .object({
    id: z.string(),
    name: z.string().max(64).optional(),
    // Absent (not null) while booting: the document types it as a plain string, not required.
    ip: z.string().optional(),
    private_ip: z.string().optional(),
    status: z.enum(lambdaStatuses),
    ssh_key_names: z.array(z.string()),
    file_system_names: z.array(z.string()),
    file_system_mounts: z.array(z.object({ mount_point: z.string(), file_system_id: z.string() })).optional(),
    region,
    instance_type: instanceType,
    hostname: z.string().optional(),
    jupyter_token: z.string().optional(),
    jupyter_url: z.string().optional(),
    actions: z
      .object({
        migrate: actionAvailability,
        rebuild: actionAvailability,
        restart: actionAvailability,
        cold_reboot: actionAvailability,
        terminate: actionAvailability,
      })
      .strict(),
    tags: z.array(z.object({ key: z.string(), value: z.string() })).optional(),
    firewall_rulesets: z.array(z.unknown()).optional(),
  })
  .strict();
const sshKey = z
  .object({ id: z.string(), name: z.string().min(1).max(64), public_key: z.string().min(1).max(4096) })
  .strict();
const image = z
  .object({
    id: z.string(),
    created_time: z.iso.datetime(),
    updated_time: z.iso.datetime(),
    name: z.string(),
    description: z.string(),
    family: z.string(),
    version: z.string(),
    architecture: z.enum(["x86_64", "arm64"]),
    region,
  })
  .strict();
const data = <T extends z.ZodType>(schema: T) => z.object({ data: schema }).strict();
/** Cloudflare's 429 in front of the API: plain text, Retry-After (SkyPilot lambda_utils; not in the document). */
const rateLimited = z.string();
const common = {
  401: errorOf("global/invalid-api-key"),
  403: errorOf("global/account-inactive", "global/invalid-address", "global/forbidden"),
  429: rateLimited,
  500: errorOf("global/internal-error"),
};

export const lambdaContract: CloudContract = {
  cloud: "Lambda Cloud",
  source: LAMBDA_SOURCE,
  statuses: lambdaStatuses,
  errorCodes: lambdaErrorCodes,
  operations: [
    {
      method: "GET",
      path: "/instance-types",
      responses: {
        200: data(
          z.record(
            z.string(),
            z.object({ instance_type: instanceType, regions_with_capacity_available: z.array(region) }).strict(),
          ),
        ),
        400: errorOf("global/invalid-parameters"),
        404: errorOf("global/not-found"),
        ...common,
      },
    },
    {
      method: "GET",
      path: "/instances",
      query: z.object({ cluster_id: z.string().optional() }).strict(),
      responses: {
        200: data(z.array(instance)),
        400: errorOf("global/invalid-parameters"),
        404: errorOf("global/not-found"),
        ...common,
      },
    },
    {
      method: "GET",
      path: "/instances/{id}",
      responses: { 200: data(instance), 404: errorOf("global/object-does-not-exist"), ...common },
    },
    {
      method: "POST",
      path: "/instance-operations/launch",
      body: z
        .object({
          region_name: z.string(),
          instance_type_name: z.string(),
          // "Currently, exactly one SSH key must be specified."
          ssh_key_names: z.array(z.string()).length(1, "Lambda takes exactly one SSH key name per launch"),
          file_system_names: z.array(z.string()).optional(),
          file_system_mounts: z
            .array(z.object({ mount_point: z.string(), file_system_id: z.string() }).strict())
            .optional(),
          hostname: z
            .string()
            .regex(/^[a-z0-9][0-9a-z-]{0,62}$/)
            .optional(),
          name: z.string().max(64).optional(),
          image: z.union([z.object({ id: z.string() }).strict(), z.object({ family: z.string() }).strict()]).optional(),
          // Cloud-init user-data, plain text, at most 1 MB.
          user_data: z.string().max(1_000_000).optional(),
          tags: z
            .array(
              z
                .object({
                  key: z
                    .string()
                    .max(55)
                    .regex(/^[a-z][a-z0-9-:]+$/),
                  value: z.string().max(128),
                })
                .strict(),
            )
            .optional(),
          firewall_rulesets: z.array(z.unknown()).optional(),
        })
        .strict(),
      responses: {
        200: data(z.object({ instance_ids: z.array(z.string()) }).strict()),
        400: errorOf(
          "instance-operations/launch/file-system-in-wrong-region",
          "instance-operations/launch/insufficient-capacity",
          "global/invalid-parameters",
          "global/object-does-not-exist",
          "global/quota-exceeded",
        ),
        404: errorOf("global/object-does-not-exist"),
        ...common,
      },
    },
    {
      method: "POST",
      path: "/instance-operations/terminate",
      body: z.object({ instance_ids: z.array(z.string()) }).strict(),
      responses: {
        200: data(z.object({ terminated_instances: z.array(instance) }).strict()),
        400: errorOf("global/invalid-parameters"),
        404: errorOf("global/object-does-not-exist"),
        ...common,
      },
    },
    {
      method: "GET",
      path: "/ssh-keys",
      responses: {
        200: data(z.array(sshKey)),
        400: errorOf("global/invalid-parameters"),
        404: errorOf("global/not-found"),
        ...common,
      },
    },
    {
      method: "POST",
      path: "/ssh-keys",
      body: z.object({ name: z.string().min(1).max(64), public_key: z.string().min(1).max(4096).optional() }).strict(),
      responses: {
        200: data(z.union([sshKey, sshKey.extend({ private_key: z.string() }).strict()])),
        400: errorOf("global/invalid-parameters"),
        404: errorOf("global/not-found"),
        ...common,
      },
    },
    {
      method: "GET",
      path: "/images",
      responses: {
        200: data(z.array(image)),
        400: errorOf("global/invalid-parameters"),
        404: errorOf("global/not-found"),
        ...common,
      },
    },
  ],
};
