// The response shapes the console reads, derived from @gpuplane/sdk's types, which are generated from the server's
// OpenAPI document (`npm run generate -w @gpuplane/sdk`). A type-only import: nothing of the SDK enters the bundle,
// and a field the server renames or drops is a typecheck error in the page that reads it, not a "—" on screen.
import type { components, paths } from "@gpuplane/sdk/schema";

type Schema<Name extends keyof components["schemas"]> = components["schemas"][Name];
type JsonOf<R> = R extends { content: { "application/json": infer Body } } ? Body : never;
/** The success body of an operation: its 200, else its 201. */
type Success<Op> = Op extends { responses: infer R }
  ? R extends { 200: infer Ok }
    ? JsonOf<Ok>
    : R extends { 201: infer Created }
      ? JsonOf<Created>
      : never
  : never;
/** The envelope's `data` of `method path` answered with success. */
export type Data<Path extends keyof paths, Method extends "get" | "post" | "patch" | "delete"> =
  Success<paths[Path][Method]> extends { data: infer D } ? D : never;
type Item<Path extends keyof paths> = Data<Path, "get"> extends (infer Row)[] ? Row : never;

export type Usd = string; // an exact decimal dollar amount ("12.345678")

export type Tenant = Schema<"Tenant">;
export type Balance = Data<"/api/v1/billing/balance", "get">;
export type Transaction = Item<"/api/v1/billing/transactions">;
export type Usage = Data<"/api/v1/billing/usage", "get">;
export type UsageDay = Usage["by_subject_day"][number];
export type Topup = Data<"/api/v1/billing/topups", "post">;
export type Instance = Schema<"Instance">;
export type InstanceLogs = Data<"/api/v1/instances/{id}/logs", "get">;
export type InstanceMetrics = Data<"/api/v1/instances/{id}/metrics", "get">;
export type Offer = Schema<"Offer">;
export type Plan = Schema<"Plan">;
export type Image = Schema<"Image">;
export type SshKey = Schema<"SshKey">;
export type WaitlistEntry = Schema<"WaitlistEntry">;
export type Webhook = Schema<"Webhook">;
export type CreatedWebhook = Data<"/api/v1/webhooks", "post">;
export type ApiKey = Schema<"ApiKey">;
export type CreatedApiKey = Data<"/api/v1/api-keys", "post">;
export type Cluster = Item<"/api/v1/dashboard/fleet">;
export type FleetNode = Item<"/api/v1/nodes">;
export type Gpu = Item<"/api/v1/gpus">;
export type JoinToken = Data<"/api/v1/clusters/{id}/join-tokens", "post">;
export type Job = Item<"/api/v1/jobs">;
export type AlertRule = Item<"/api/v1/alerts/rules">;
export type AlertEvent = Item<"/api/v1/alerts/events">;
export type Invoice = Item<"/api/v1/billing/invoices">;
export type Revenue = Data<"/api/v1/dashboard/revenue", "get">;
export type TenantSummary = Data<"/api/v1/billing/summary", "get">["tenants"][number];
export type FleetSeries = Data<"/api/v1/metrics/fleet", "get">;
export type InstanceEvent = Item<"/api/v1/instances/{id}/events">;
export type Volume = Schema<"Volume">;
export type Region = Schema<"Region">;
