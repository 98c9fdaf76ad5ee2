import { z } from "zod";
import type { CloudContract } from "./contract.js";

/**
 * RunPod's REST API v2 as its OpenAPI document states it: "Runpod REST API" version 2.0.0, file
 * `api-reference-v2/openapi.json` of the runpod/docs repository (commit a900806e253c4f8c16da27d1a4370e72456da4cb,
 * 2026-08-20), with `api-reference-v2/migrate-from-v1.mdx` and `release-notes.mdx` (2026-08-18: v2 generally
 * available, v1 retired on 2026-11-15, GraphQL retired in early 2027). Paths are as the document writes them,
 * relative to its server `https://api.runpod.io`. Only the operations gpuplane uses are written here; request bodies
 * refuse fields the document does not list (`unevaluatedProperties: false` on CreatePodRequest, PodActionRequest).
 */
export const RUNPOD_SOURCE = "RunPod REST API v2 OpenAPI 2.0.0 (runpod/docs api-reference-v2/openapi.json @ a900806e)";

/** PodStatus. */
export const runpodStatuses = ["PROVISIONING", "STARTING", "RUNNING", "EXITED", "ERROR", "TERMINATED"] as const;
/** PodAction. */
export const runpodActions = ["start", "stop", "restart", "terminate"] as const;
/** AvailabilityLevel. */
export const runpodAvailability = ["NONE", "LOW", "MEDIUM", "HIGH"] as const;
/** The HTTP statuses createPod documents, each with what a caller does (its description's table). */
export const runpodErrorStatuses = [400, 401, 402, 403, 404, 409, 422, 429] as const;

/** RFC 9457 problem details (ErrorResponse): `errors` lists each violation of a 422. */
export const problem = z
  .object({
    type: z.string().optional(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    errors: z.array(z.string()).optional(),
  })
  .strict();

const sshEndpoint = z
  .object({ host: z.string(), port: z.number().int(), username: z.string(), command: z.string() })
  .strict();
const cloud = z.enum(["SECURE", "COMMUNITY"]);
const mounts = z
  .object({
    persistent: z
      .object({ size: z.number().int().min(10), path: z.string() })
      .strict()
      .optional(),
    network: z
      .array(z.object({ volumeId: z.string(), path: z.string() }).strict())
      .max(1)
      .optional(),
  })
  .strict();
const pod = z
  .object({
    id: z.string(),
    name: z.string(),
    status: z.enum(runpodStatuses),
    actions: z.array(z.enum(runpodActions)),
    image: z.string(),
    args: z.string(),
    disk: z.number().int(),
    mounts,
    ports: z.array(z.string()),
    env: z.record(z.string(), z.string()),
    registry: z.string().nullable(),
    gpu: z
      .object({ id: z.string(), count: z.number().int().min(1) })
      .strict()
      .optional(),
    cpu: z.unknown().optional(),
    cloud,
    dataCenterId: z.string().nullable(),
    cudaVersion: z.string().nullable(),
    // Both SSH paths; `direct` (the host's public IP and mapped port) needs 22/tcp in `ports`.
    ssh: z.object({ proxy: sshEndpoint.nullable(), direct: sshEndpoint.nullable() }).strict(),
    cluster: z.unknown().optional(),
    template: z.string().nullable(),
    /** The rate billed for the pod, USD per hour. */
    cost: z.number(),
    locked: z.boolean(),
    globalNetworking: z
      .object({ enabled: z.boolean(), ip: z.string().optional(), internalDns: z.string().optional() })
      .strict(),
    runtime: z
      .object({
        uptime: z.number().int().optional(),
        gpus: z.array(z.unknown()).optional(),
        cpu: z.unknown().optional(),
        memory: z.unknown().optional(),
        ports: z
          .array(
            z
              .object({
                private: z.number().int().optional(),
                public: z.number().int().nullable().optional(),
                type: z.string().optional(),
                ip: z.string().nullable().optional(),
              })
              .strict(),
          )
          .optional(),
      })
      .strict()
      .nullable(),
    createdAt: z.iso.datetime(),
    startedAt: z.iso.datetime().nullable(),
  })
  .strict();

const cuda = z.string().regex(/^\d+\.\d+$/);
const createPod = z
  .object({
    name: z.string().min(1),
    image: z.string().optional(),
    args: z.string().optional(),
    disk: z.number().int().min(1).optional(),
    env: z.record(z.string(), z.string()).optional(),
    ports: z.array(z.string()).optional(),
    registry: z.string().nullable().optional(),
    cloud: cloud.optional(),
    cpu: z.record(z.string(), z.unknown()).optional(),
    dataCenterIds: z.array(z.string()).optional(),
    globalNetworking: z.boolean().optional(),
    gpu: z
      .object({
        id: z.string(),
        count: z.number().int().min(1).optional(),
        allowedCudaVersions: z.array(cuda).optional(),
        minCudaVersion: cuda.optional(),
      })
      .strict()
      .optional(),
    mounts: mounts.optional(),
    startJupyter: z.boolean().optional(),
    startSsh: z.boolean().optional(),
    templateId: z.string().min(1).optional(),
  })
  .strict()
  .refine((b) => (b.gpu === undefined) !== (b.cpu === undefined), "exactly one of gpu or cpu")
  .refine((b) => b.templateId !== undefined || b.image !== undefined, "image is required unless templateId is set");

const gpuType = z
  .object({
    id: z.string(),
    name: z.string(),
    pool: z.string().nullable(),
    manufacturer: z.enum(["NVIDIA", "AMD", "UNKNOWN"]),
    memory: z.number().int(),
    secure: z.boolean(),
    community: z.boolean(),
    /** List price per GPU-hour, per cloud. */
    price: z.object({ secure: z.number(), community: z.number(), serverless: z.number().optional() }).strict(),
    maxCount: z.object({ secure: z.number().int(), community: z.number().int() }).strict(),
    availability: z.enum(runpodAvailability).optional(),
    dataCenters: z
      .array(z.object({ id: z.string(), name: z.string(), availability: z.enum(runpodAvailability) }).strict())
      .optional(),
    cudaVersions: z.array(z.object({ version: cuda, available: z.boolean() }).strict()).optional(),
  })
  .strict();

/** Comma-separated query values (style form, explode false). */
const list = <T extends string>(values: readonly [T, ...T[]]) =>
  z.string().refine((s) => s.split(",").every((v) => (values as readonly string[]).includes(v)), {
    message: `each of ${values.join(", ")}`,
  });
const catalogQuery = z
  .object({
    include: list(["AVAILABILITY"]).optional(),
    product: list(["POD", "CLUSTER", "SERVERLESS"]).optional(),
    count: z
      .string()
      .regex(/^[1-9]\d*$/)
      .optional(),
    cloud: cloud.optional(),
    countryCodes: z
      .string()
      .regex(/^[A-Z]{2}(,[A-Z]{2})*$/)
      .optional(),
    cudaVersions: z.string().optional(),
    minCudaVersion: cuda.optional(),
  })
  .strict()
  // `product` is required with include=AVAILABILITY and valid only with it; so are count, cloud, countryCodes.
  .refine((q) => (q.include === undefined) === (q.product === undefined), "product goes with include=AVAILABILITY")
  .refine(
    (q) => q.include !== undefined || (q.count ?? q.cloud ?? q.countryCodes) === undefined,
    "count, cloud and countryCodes are valid only with include=AVAILABILITY",
  );

/** A 204 has no body. */
const noBody = z.union([z.undefined(), z.literal("")]);
const errors = { default: problem };

export const runpodContract: CloudContract = {
  cloud: "RunPod",
  source: RUNPOD_SOURCE,
  statuses: runpodStatuses,
  operations: [
    {
      method: "GET",
      path: "/v2/pods",
      query: z.object({ includeClusterPods: z.enum(["true", "false"]).optional() }).strict(),
      responses: { 200: z.object({ pods: z.array(pod) }).strict(), ...errors },
    },
    { method: "POST", path: "/v2/pods", body: createPod, responses: { 201: pod, ...errors } },
    { method: "GET", path: "/v2/pods/{id}", responses: { 200: pod, ...errors } },
    { method: "DELETE", path: "/v2/pods/{id}", responses: { 204: noBody, ...errors } },
    {
      method: "POST",
      path: "/v2/pods/{id}/action",
      body: z.object({ action: z.enum(runpodActions) }).strict(),
      // 204 only for action=terminate.
      responses: { 200: pod, 204: noBody, ...errors },
    },
    {
      method: "GET",
      path: "/v2/catalog/gpus",
      query: catalogQuery,
      responses: { 200: z.object({ gpus: z.array(gpuType) }).strict(), ...errors },
    },
  ],
};
