// The response shapes the console reads, copied from the route schemas (src/routes/**/schemas.ts, views.ts) in one
// place, so that switching to @gpuplane/sdk's generated types later is a change of imports.

export type Usd = string; // an exact decimal dollar amount ("12.345678")

export interface Tenant {
  id: number;
  name: string;
  gpu_quota: number;
  contact_email: string | null;
  plan_tier: string;
  status: string;
  billing_mode: "prepaid" | "invoiced";
  created_at: string;
}

export interface Balance {
  tenant_id: number;
  balance_usd: number;
  balance: Usd;
  balance_micros: string;
  billing_mode: "prepaid" | "invoiced";
  minimum_balance_usd: number;
  first_stretch_minutes: number;
  can_deploy: boolean;
  burn_rate_usd_per_hour: Usd | null;
  runway_seconds: number | null;
  auto_stop_warning: boolean;
  topups_enabled: boolean;
}

export interface Transaction {
  id: string;
  tenant_id: number;
  kind: string;
  amount_usd: Usd;
  amount_micros: string;
  balance_after_usd: Usd;
  balance_after_micros: string;
  description: string;
  instance_id: string | null;
  job_id: number | null;
  volume_id: string | null;
  created_at: string;
}

export interface UsageDay {
  day: string;
  kind: "instance" | "job" | "volume";
  id: string;
  name: string | null;
  amount_usd: Usd;
  amount_micros: string;
  seconds: number;
}

export interface Usage {
  tenant_id: number;
  from: string;
  to: string;
  total_usd: Usd;
  days: { day: string; amount_usd: Usd; seconds: number }[];
  by_subject_day: UsageDay[];
}

export interface Topup {
  id: string;
  amount_usd: Usd;
  status: string;
  checkout_url: string | null;
}

export interface Instance {
  id: string;
  name: string;
  status: string;
  statusReason: string | null;
  planId: string;
  region: string;
  gpuType: string;
  gpuCount: number;
  pricePerHour: Usd;
  sshCommand: string | null;
  tenantId: number;
  createdAt: string;
}

export interface Cluster {
  id: number;
  name: string;
  region: string | null;
  node_count: number;
  gpus: { total: number; allocated: number; idle: number; unhealthy: number; draining: number };
  utilization_pct: number | null;
}

export interface FleetNode {
  id: number;
  cluster_id: number;
  hostname: string;
  ip_address: string | null;
  total_gpus: number;
  cpu_cores: number | null;
  ram_gb: number | null;
  status: string;
  gpu_count: number;
  allocated_gpus: number;
  last_heartbeat_at: string | null;
}

export interface Gpu {
  id: number;
  node_id: number;
  hostname: string;
  gpu_index: number;
  model: string;
  state: "idle" | "allocated" | "unhealthy" | "draining";
  latest_metrics: { ts: string; utilization_pct: number | null; memory_used_mb: number | null } | null;
}

export interface JoinToken {
  token: string;
  expires_at: string;
  join_command: string;
}

export interface Job {
  id: number;
  cluster_id: number;
  tenant_id: number | null;
  name: string;
  gpu_count: number;
  gpu_type: string | null;
  priority: number;
  status: string;
  block_reason: string | null;
  created_at: string;
}

export interface AlertRule {
  id: number;
  name: string;
  type: "utilization_low" | "quota_breach" | "health_degraded";
  threshold: number | null;
  window_seconds: number;
  enabled: boolean;
}

export interface AlertEvent {
  id: number;
  rule_name?: string;
  type?: string;
  severity?: string;
  message?: string;
  status?: string;
  opened_at?: string;
  resolved_at?: string | null;
}

export interface Invoice {
  id: number;
  tenant_id: number;
  period_start: string;
  period_end: string;
  status: "draft" | "open" | "paid" | "void";
  total_usd: Usd;
  total_micros: string;
  created_at: string;
}

export interface Revenue {
  days: number;
  total_usd: Usd;
  by_day: { day: string; amount_usd: Usd }[];
  by_tenant: { tenant_id: number; name: string; amount_usd: Usd }[];
  by_gpu_model: { model: string; amount_usd: Usd }[];
  by_day_gpu_model: { day: string; model: string; amount_usd: Usd }[];
}

export interface TenantSummary {
  tenant_id: number;
  name: string;
  usage_usd: Usd;
  balance: Usd;
  running_instances?: number;
}

export interface FleetSeries {
  from: string;
  to: string;
  step_seconds: number;
  points: { ts: string; samples: number; utilization_pct: number | null; memory_used_mb: number | null }[];
}
