import { z } from "zod";
import type { CloudContract } from "./contract.js";

/**
 * E2E Networks' MyAccount API v1 as E2E's own CLI states it: `e2enetworks-oss/e2ectl` 0.6.1 (commit
 * 7d430d461199cc7c651dee7089725d3d140aa213, 2026-05-06): `src/myaccount/transport.ts` (base URL, auth, the envelope
 * and what counts as a failure), `src/myaccount/types.ts` (ApiEnvelope), `src/node/client.ts` and `src/node/types.ts`
 * (paths, methods, NodeCreateRequest, NodeCreateResult, NodeSummary, NodeCatalogPlan, NodeActionRequest/Result),
 * `src/node/defaults.ts` (the create body it sends), its tests `tests/integration/node/*-fake-api.test.ts` and
 * `tests/unit/myaccount/transport.test.ts` (answers, a 403 `{detail}`, a 401 envelope inside HTTP 200). The stopped
 * status is spelled "Powered off" by E2E's Terraform provider (`e2eterraformprovider/terraform-provider-e2e` v2.1.6
 * `e2e/node/resource_node.go`, which also names Creating, Reinstalling and Saving). Paths are relative to
 * `https://api.e2enetworks.com/myaccount/api/v1`.
 *
 * Not in those sources: whether `GET /nodes/` pages (its answer carries `total_count` and `total_page_number`, and
 * e2ectl's other lists send `page_no`/`per_page`, so gpuplane sends them and follows the pages), and the GPU fields of a
 * plan (e2ectl types `node_description`; the GPU is read from it).
 */
export const E2E_SOURCE =
  "e2enetworks-oss/e2ectl 0.6.1 @ 7d430d46 (src/myaccount/transport.ts, src/node/client.ts, src/node/types.ts); terraform-provider-e2e v2.1.6 statuses";

/** Node statuses E2E's clients name (e2ectl tests; terraform-provider-e2e resource_node.go). */
export const e2eStatuses = ["Creating", "Running", "Powered off", "Reinstalling", "Saving"] as const;

/** Every call carries the API key, the project and the location in its query (e2ectl `buildUrl`). */
const context = { apikey: z.string().min(1), project_id: z.string().min(1), location: z.string().min(1) };
const query = z.object(context).strict();

/** `{code, data, errors, message}`; a failure may come with HTTP 200 and `code` ≥ 400 (e2ectl transport). */
const envelope = <T extends z.ZodType>(data: T) =>
  z.object({
    code: z.number().int(),
    data,
    errors: z.record(z.string(), z.unknown()),
    message: z.string(),
  });
/** A failed call: the envelope with `code` ≥ 400, or a bare `{detail}` (the 403 of a missing or wrong token). */
const failure = z.union([
  envelope(z.unknown()).refine((b) => b.code >= 400, "a failure's code is 400 or more"),
  z.object({ detail: z.string() }).strict(),
]);

const nodeSummary = z.object({
  id: z.number().int(),
  is_locked: z.boolean().optional(),
  name: z.string(),
  plan: z.string(),
  private_ip_address: z.string().nullish(),
  public_ip_address: z.string().nullish(),
  status: z.string(),
});
const nodeDetails = nodeSummary.extend({
  created_at: z.string().optional(),
  disk: z.string().optional(),
  label: z.string().optional(),
  location: z.string().optional(),
  memory: z.string().optional(),
  price: z.string().optional(),
  vm_id: z.number().int().optional(),
  vcpus: z.string().optional(),
});
const plan = z.object({
  available_inventory_status: z.boolean().optional(),
  cpu_type: z.string().optional(),
  currency: z.string().optional(),
  image: z.string(),
  location: z.string().optional(),
  name: z.string(),
  node_description: z.string().optional(),
  os: z
    .object({
      category: z.string().optional(),
      image: z.string().optional(),
      name: z.string().optional(),
      version: z.string().optional(),
    })
    .optional(),
  plan: z.string(),
  specs: z
    .object({
      committed_sku: z.array(z.unknown()).optional(),
      cpu: z.number().optional(),
      disk_space: z.number().optional(),
      family: z.string().optional(),
      id: z.string().optional(),
      minimum_billing_amount: z.number().optional(),
      price_per_hour: z.number().optional(),
      price_per_month: z.number().optional(),
      ram: z.string().optional(),
      series: z.string().optional(),
      sku_name: z.string().optional(),
    })
    .optional(),
});
const actionResult = z.object({
  action_type: z.string(),
  created_at: z.string(),
  id: z.number().int(),
  image_id: z.string().optional(),
  resource_id: z.string(),
  status: z.string(),
});

export const e2eContract: CloudContract = {
  cloud: "E2E Networks",
  source: E2E_SOURCE,
  statuses: e2eStatuses,
  operations: [
    {
      method: "GET",
      path: "/images/",
      // NodeCatalogQuery: all four are required (e2ectl buildNodeCatalogQuery).
      query: z
        .object({
          ...context,
          category: z.string().min(1),
          display_category: z.string().min(1),
          os: z.string().min(1),
          osversion: z.string().min(1),
        })
        .strict(),
      responses: { 200: z.union([envelope(z.array(plan)), failure]), default: failure },
    },
    {
      method: "GET",
      path: "/nodes/",
      query: z
        .object({ ...context, page_no: z.string().regex(/^\d+$/), per_page: z.string().regex(/^\d+$/) })
        .partial({ page_no: true, per_page: true })
        .strict(),
      responses: {
        200: z.union([
          envelope(z.array(nodeSummary)).extend({
            total_count: z.number().int().optional(),
            total_page_number: z.number().int().optional(),
          }),
          failure,
        ]),
        default: failure,
      },
    },
    {
      method: "GET",
      path: "/nodes/{id}/",
      query,
      responses: { 200: z.union([envelope(nodeDetails), failure]), default: failure },
    },
    {
      method: "POST",
      path: "/nodes/",
      query,
      // NodeCreateRequest, with the fields e2ectl's defaults always send.
      body: z
        .object({
          backups: z.boolean(),
          cn_id: z.number().int().optional(),
          cn_status: z.literal("auto_renew").optional(),
          default_public_ip: z.boolean(),
          disk: z.number().int().optional(),
          disable_password: z.boolean(),
          enable_bitninja: z.boolean(),
          image: z.string().min(1),
          is_ipv6_availed: z.boolean(),
          is_saved_image: z.boolean(),
          label: z.string(),
          name: z.string().min(1),
          number_of_instances: z.number().int().min(1),
          plan: z.string().min(1),
          saved_image_template_id: z.string().optional(),
          // The public keys' text itself (e2ectl resolves saved key ids to their text before sending).
          ssh_keys: z.array(z.string().regex(/^(ssh-(ed25519|rsa)|ecdsa-sha2-\S+) \S+/, "an OpenSSH public key")),
          start_scripts: z.array(z.string()),
        })
        .strict(),
      responses: {
        // NodeCreateResult: how many were asked and created, and the created nodes. A partial create is a 200 too.
        200: z.union([
          envelope(
            z.object({
              node_create_response: z.array(nodeDetails),
              total_number_of_node_created: z.number().int(),
              total_number_of_node_requested: z.number().int(),
            }),
          ),
          failure,
        ]),
        default: failure,
      },
    },
    {
      method: "PUT",
      path: "/nodes/{id}/actions/",
      query,
      body: z.object({ type: z.enum(["power_on", "power_off"]) }).strict(),
      responses: { 200: z.union([envelope(actionResult), failure]), default: failure },
    },
    {
      method: "DELETE",
      path: "/nodes/{id}/",
      query: z.object({ ...context, reserve_ip_required: z.literal("true").optional() }).strict(),
      responses: { 200: z.union([envelope(z.object({}).strict()), failure]), default: failure },
    },
    {
      method: "GET",
      path: "/ssh_keys/",
      query,
      responses: {
        200: z.union([
          envelope(
            z.array(
              z.object({
                label: z.string(),
                pk: z.number().int(),
                project_name: z.string().optional(),
                ssh_key: z.string(),
                ssh_key_type: z.string().optional(),
                timestamp: z.string(),
                total_attached_nodes: z.number().int().optional(),
              }),
            ),
          ),
          failure,
        ]),
        default: failure,
      },
    },
  ],
};
