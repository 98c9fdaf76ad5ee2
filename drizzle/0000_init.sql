CREATE TABLE "balance_warnings" (
	"tenant_id" integer NOT NULL,
	"threshold_micros" bigint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "invoice_lines" (
	"id" serial PRIMARY KEY NOT NULL,
	"invoice_id" integer NOT NULL,
	"description" text NOT NULL,
	"quantity_seconds" integer,
	"amount_micros" bigint NOT NULL,
	"instance_id" text,
	"job_id" integer,
	"stripe_invoice_item_id" text
);
--> statement-breakpoint
CREATE TABLE "invoices" (
	"id" serial PRIMARY KEY NOT NULL,
	"tenant_id" integer NOT NULL,
	"period_start" timestamp with time zone NOT NULL,
	"period_end" timestamp with time zone NOT NULL,
	"status" text DEFAULT 'draft' NOT NULL,
	"currency" text DEFAULT 'usd' NOT NULL,
	"total_micros" bigint NOT NULL,
	"stripe_invoice_id" text,
	"stripe_status" text,
	"hosted_invoice_url" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finalized_at" timestamp with time zone,
	"paid_at" timestamp with time zone,
	"voided_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "ledger_entries" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"tenant_id" integer NOT NULL,
	"kind" text NOT NULL,
	"amount_micros" bigint NOT NULL,
	"balance_after_micros" bigint NOT NULL,
	"description" text NOT NULL,
	"reference" text,
	"instance_id" text,
	"job_id" integer,
	"volume_id" text,
	"period_start" timestamp with time zone,
	"period_end" timestamp with time zone,
	"quantity_seconds" integer,
	"invoice_id" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "topups" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" integer NOT NULL,
	"amount_micros" bigint NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"stripe_session_id" text,
	"stripe_payment_intent_id" text,
	"checkout_url" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "images" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"os" text NOT NULL,
	"cuda_version" text,
	"description" text,
	"compatible_gpus" text[] NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "instance_type_aliases" (
	"alias" text PRIMARY KEY NOT NULL,
	"instance_type_id" text NOT NULL,
	"kind" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "instance_type_region_prices" (
	"instance_type_id" text NOT NULL,
	"region_id" text NOT NULL,
	"price_per_hour_micros" bigint NOT NULL,
	CONSTRAINT "instance_type_region_prices_instance_type_id_region_id_pk" PRIMARY KEY("instance_type_id","region_id")
);
--> statement-breakpoint
CREATE TABLE "instance_types" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"gpu_model" text NOT NULL,
	"gpu_memory_gb" integer NOT NULL,
	"gpu_count" integer NOT NULL,
	"vcpus" integer NOT NULL,
	"ram_gb" integer NOT NULL,
	"disk_gb" integer NOT NULL,
	"price_per_hour_micros" bigint NOT NULL,
	"billing_granularity_seconds" integer DEFAULT 1 NOT NULL,
	"minimum_charge_micros" bigint DEFAULT 0 NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "regions" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"country" text,
	"active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "events" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" integer,
	"type" text NOT NULL,
	"data" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "instances" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" integer NOT NULL,
	"name" text NOT NULL,
	"instance_type_id" text NOT NULL,
	"requested_type" text NOT NULL,
	"image_id" text NOT NULL,
	"region_id" text NOT NULL,
	"gpu_count" integer NOT NULL,
	"gpu_model" text NOT NULL,
	"price_per_hour_micros" bigint NOT NULL,
	"billing_granularity_seconds" integer NOT NULL,
	"minimum_charge_micros" bigint DEFAULT 0 NOT NULL,
	"provider" text NOT NULL,
	"provider_ref" text,
	"node_id" integer,
	"status" text NOT NULL,
	"status_reason" text,
	"ip_address" text,
	"ssh_port" integer,
	"ssh_user" text,
	"ssh_key_ids" text[] NOT NULL,
	"ssh_public_keys" text[] NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"running_since" timestamp with time zone,
	"metered_until" timestamp with time zone,
	"stopped_at" timestamp with time zone,
	"deleted_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "ssh_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" integer NOT NULL,
	"name" text NOT NULL,
	"public_key" text NOT NULL,
	"key_type" text NOT NULL,
	"bits" integer,
	"fingerprint" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "volumes" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" integer NOT NULL,
	"name" text NOT NULL,
	"size_gb" integer NOT NULL,
	"type" text NOT NULL,
	"region_id" text NOT NULL,
	"status" text NOT NULL,
	"instance_id" text,
	"price_per_gb_month_micros" bigint NOT NULL,
	"metered_until" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "waitlist_entries" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" integer NOT NULL,
	"instance_type_id" text NOT NULL,
	"region_id" text NOT NULL,
	"mode" text NOT NULL,
	"deploy_request" jsonb,
	"status" text NOT NULL,
	"status_reason" text,
	"instance_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"fulfilled_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "webhook_deliveries" (
	"id" text PRIMARY KEY NOT NULL,
	"endpoint_id" text NOT NULL,
	"event_id" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_status_code" integer,
	"last_error" text,
	"last_attempt_at" timestamp with time zone,
	"delivered_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhook_endpoints" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" integer,
	"url" text NOT NULL,
	"description" text,
	"events" text[] NOT NULL,
	"secret" text NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"disabled_reason" text,
	"consecutive_failures" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "clusters" (
	"id" serial PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"region" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "gpu_allocations" (
	"gpu_id" integer PRIMARY KEY NOT NULL,
	"node_id" integer NOT NULL,
	"tenant_id" integer,
	"instance_id" text,
	"job_id" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "gpu_latest_metrics" (
	"gpu_id" integer PRIMARY KEY NOT NULL,
	"ts" timestamp with time zone NOT NULL,
	"utilization_pct" real,
	"memory_used_mb" integer,
	"memory_total_mb" integer,
	"temperature_c" real,
	"power_draw_w" real
);
--> statement-breakpoint
CREATE TABLE "gpu_metrics" (
	"gpu_id" integer NOT NULL,
	"ts" timestamp with time zone NOT NULL,
	"utilization_pct" real,
	"memory_used_mb" integer,
	"memory_total_mb" integer,
	"temperature_c" real,
	"power_draw_w" real
);
--> statement-breakpoint
CREATE TABLE "gpus" (
	"id" serial PRIMARY KEY NOT NULL,
	"node_id" integer NOT NULL,
	"gpu_index" integer NOT NULL,
	"uuid" text,
	"model" text NOT NULL,
	"vram_mb" integer,
	"health" text DEFAULT 'healthy' NOT NULL,
	"health_reason" text,
	"driver_version" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "node_join_tokens" (
	"id" text PRIMARY KEY NOT NULL,
	"cluster_id" integer NOT NULL,
	"token_hash" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "node_join_tokens_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
CREATE TABLE "nodes" (
	"id" serial PRIMARY KEY NOT NULL,
	"cluster_id" integer NOT NULL,
	"hostname" text NOT NULL,
	"ip_address" text,
	"total_gpus" integer DEFAULT 0 NOT NULL,
	"cpu_cores" integer,
	"ram_gb" integer,
	"status" text DEFAULT 'active' NOT NULL,
	"last_heartbeat_at" timestamp with time zone,
	"agent_version" text,
	"facts" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "api_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" integer,
	"node_id" integer,
	"label" text NOT NULL,
	"display_prefix" text NOT NULL,
	"key_hash" text NOT NULL,
	"scopes" text[] NOT NULL,
	"permissions" text[] NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	"last_used_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" serial PRIMARY KEY NOT NULL,
	"tenant_id" integer,
	"actor_key_id" text,
	"action" text NOT NULL,
	"subject" text NOT NULL,
	"detail" text,
	"is_operator" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
	"id" serial PRIMARY KEY NOT NULL,
	"owner" text NOT NULL,
	"key" text NOT NULL,
	"method" text NOT NULL,
	"path" text NOT NULL,
	"request_hash" text NOT NULL,
	"state" text DEFAULT 'in_flight' NOT NULL,
	"response_status" integer,
	"response_body" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "tenants" (
	"id" serial PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"email" text,
	"password_hash" text,
	"contact_email" text,
	"gpu_quota" integer DEFAULT 8 NOT NULL,
	"plan_tier" text DEFAULT 'starter' NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"stripe_customer_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "alert_events" (
	"id" serial PRIMARY KEY NOT NULL,
	"rule_id" integer NOT NULL,
	"subject" text NOT NULL,
	"status" text NOT NULL,
	"severity" text DEFAULT 'warning' NOT NULL,
	"message" text NOT NULL,
	"value" real,
	"opened_at" timestamp with time zone DEFAULT now() NOT NULL,
	"resolved_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "alert_rules" (
	"id" serial PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"type" text NOT NULL,
	"threshold" real,
	"window_seconds" integer DEFAULT 300 NOT NULL,
	"scope" jsonb,
	"enabled" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "jobs" (
	"id" serial PRIMARY KEY NOT NULL,
	"cluster_id" integer NOT NULL,
	"tenant_id" integer,
	"name" text NOT NULL,
	"gpu_count" integer DEFAULT 1 NOT NULL,
	"gpu_type" text,
	"priority" integer DEFAULT 5 NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"block_reason" text,
	"submitted_by" text,
	"estimated_duration_min" integer,
	"command" text,
	"env" jsonb,
	"node_id" integer,
	"gpu_indices" integer[],
	"price_per_gpu_hour_micros" bigint,
	"exit_code" integer,
	"output_tail" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"scheduled_at" timestamp with time zone,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"metered_until" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "invoice_lines" ADD CONSTRAINT "invoice_lines_invoice_id_invoices_id_fk" FOREIGN KEY ("invoice_id") REFERENCES "public"."invoices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "invoices" ADD CONSTRAINT "invoices_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "topups" ADD CONSTRAINT "topups_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "instance_type_aliases" ADD CONSTRAINT "instance_type_aliases_instance_type_id_instance_types_id_fk" FOREIGN KEY ("instance_type_id") REFERENCES "public"."instance_types"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "instance_type_region_prices" ADD CONSTRAINT "instance_type_region_prices_instance_type_id_instance_types_id_fk" FOREIGN KEY ("instance_type_id") REFERENCES "public"."instance_types"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "instance_type_region_prices" ADD CONSTRAINT "instance_type_region_prices_region_id_regions_id_fk" FOREIGN KEY ("region_id") REFERENCES "public"."regions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "instances" ADD CONSTRAINT "instances_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ssh_keys" ADD CONSTRAINT "ssh_keys_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "volumes" ADD CONSTRAINT "volumes_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "waitlist_entries" ADD CONSTRAINT "waitlist_entries_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_endpoint_id_webhook_endpoints_id_fk" FOREIGN KEY ("endpoint_id") REFERENCES "public"."webhook_endpoints"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_endpoints" ADD CONSTRAINT "webhook_endpoints_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "gpu_allocations" ADD CONSTRAINT "gpu_allocations_gpu_id_gpus_id_fk" FOREIGN KEY ("gpu_id") REFERENCES "public"."gpus"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "gpus" ADD CONSTRAINT "gpus_node_id_nodes_id_fk" FOREIGN KEY ("node_id") REFERENCES "public"."nodes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "node_join_tokens" ADD CONSTRAINT "node_join_tokens_cluster_id_clusters_id_fk" FOREIGN KEY ("cluster_id") REFERENCES "public"."clusters"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "nodes" ADD CONSTRAINT "nodes_cluster_id_clusters_id_fk" FOREIGN KEY ("cluster_id") REFERENCES "public"."clusters"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "balance_warnings_key" ON "balance_warnings" USING btree ("tenant_id","threshold_micros");--> statement-breakpoint
CREATE INDEX "invoice_lines_invoice_idx" ON "invoice_lines" USING btree ("invoice_id");--> statement-breakpoint
CREATE INDEX "invoices_tenant_idx" ON "invoices" USING btree ("tenant_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "invoices_tenant_period" ON "invoices" USING btree ("tenant_id","period_start","period_end") WHERE status <> 'void';--> statement-breakpoint
CREATE UNIQUE INDEX "ledger_reference_key" ON "ledger_entries" USING btree ("reference");--> statement-breakpoint
CREATE INDEX "ledger_tenant_idx" ON "ledger_entries" USING btree ("tenant_id","id" desc);--> statement-breakpoint
CREATE INDEX "ledger_uninvoiced_idx" ON "ledger_entries" USING btree ("tenant_id","created_at") WHERE invoice_id is null and kind = 'usage';--> statement-breakpoint
CREATE UNIQUE INDEX "topups_stripe_session" ON "topups" USING btree ("stripe_session_id");--> statement-breakpoint
CREATE INDEX "events_tenant_idx" ON "events" USING btree ("tenant_id","id");--> statement-breakpoint
CREATE INDEX "instances_tenant_idx" ON "instances" USING btree ("tenant_id","id");--> statement-breakpoint
CREATE INDEX "instances_status_idx" ON "instances" USING btree ("status");--> statement-breakpoint
CREATE INDEX "instances_node_idx" ON "instances" USING btree ("node_id");--> statement-breakpoint
CREATE UNIQUE INDEX "ssh_keys_tenant_fingerprint" ON "ssh_keys" USING btree ("tenant_id","fingerprint");--> statement-breakpoint
CREATE INDEX "volumes_tenant_idx" ON "volumes" USING btree ("tenant_id","id");--> statement-breakpoint
CREATE INDEX "volumes_instance_idx" ON "volumes" USING btree ("instance_id");--> statement-breakpoint
CREATE INDEX "waitlist_queue_idx" ON "waitlist_entries" USING btree ("instance_type_id","region_id","status","id");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_due_idx" ON "webhook_deliveries" USING btree ("status","next_attempt_at");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_endpoint_idx" ON "webhook_deliveries" USING btree ("endpoint_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "webhook_deliveries_event_endpoint" ON "webhook_deliveries" USING btree ("event_id","endpoint_id");--> statement-breakpoint
CREATE INDEX "webhook_endpoints_tenant_idx" ON "webhook_endpoints" USING btree ("tenant_id");--> statement-breakpoint
CREATE UNIQUE INDEX "clusters_name_key" ON "clusters" USING btree ("name");--> statement-breakpoint
CREATE INDEX "gpu_allocations_node_idx" ON "gpu_allocations" USING btree ("node_id");--> statement-breakpoint
CREATE INDEX "gpu_allocations_tenant_idx" ON "gpu_allocations" USING btree ("tenant_id");--> statement-breakpoint
CREATE INDEX "gpu_allocations_job_idx" ON "gpu_allocations" USING btree ("job_id");--> statement-breakpoint
CREATE INDEX "gpu_allocations_instance_idx" ON "gpu_allocations" USING btree ("instance_id");--> statement-breakpoint
CREATE INDEX "gpu_metrics_gpu_ts_idx" ON "gpu_metrics" USING btree ("gpu_id","ts" desc);--> statement-breakpoint
CREATE UNIQUE INDEX "gpus_node_index_key" ON "gpus" USING btree ("node_id","gpu_index");--> statement-breakpoint
CREATE INDEX "gpus_model_idx" ON "gpus" USING btree ("model");--> statement-breakpoint
CREATE UNIQUE INDEX "nodes_hostname_key" ON "nodes" USING btree ("hostname");--> statement-breakpoint
CREATE INDEX "nodes_cluster_idx" ON "nodes" USING btree ("cluster_id");--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_key_hash_key" ON "api_keys" USING btree ("key_hash");--> statement-breakpoint
CREATE INDEX "api_keys_tenant_idx" ON "api_keys" USING btree ("tenant_id");--> statement-breakpoint
CREATE INDEX "audit_tenant_idx" ON "audit_log" USING btree ("tenant_id","created_at");--> statement-breakpoint
CREATE INDEX "audit_created_idx" ON "audit_log" USING btree ("created_at" desc);--> statement-breakpoint
CREATE UNIQUE INDEX "idempotency_owner_key" ON "idempotency_keys" USING btree ("owner","key");--> statement-breakpoint
CREATE INDEX "idempotency_created_idx" ON "idempotency_keys" USING btree ("created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "tenants_email_key" ON "tenants" USING btree ("email");--> statement-breakpoint
CREATE UNIQUE INDEX "alert_events_one_open" ON "alert_events" USING btree ("rule_id","subject") WHERE status = 'open';--> statement-breakpoint
CREATE INDEX "alert_events_opened_idx" ON "alert_events" USING btree ("id");--> statement-breakpoint
CREATE INDEX "jobs_queue_idx" ON "jobs" USING btree ("status","priority","id");--> statement-breakpoint
CREATE INDEX "jobs_tenant_idx" ON "jobs" USING btree ("tenant_id","id");--> statement-breakpoint
CREATE INDEX "jobs_node_idx" ON "jobs" USING btree ("node_id");