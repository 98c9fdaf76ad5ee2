ALTER TABLE "ledger_entries" ADD COLUMN "upstream_cost_micros" bigint;--> statement-breakpoint
ALTER TABLE "instance_types" ADD COLUMN "gpu_form_factor" text;--> statement-breakpoint
ALTER TABLE "instances" ADD COLUMN "billed_while_stopped" text;--> statement-breakpoint
ALTER TABLE "upstream_launches" ADD COLUMN "cost_increment_seconds" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "upstream_launches" ADD COLUMN "first_claimed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "upstream_providers" ADD COLUMN "provisioning_timeout_seconds" integer DEFAULT 1200 NOT NULL;--> statement-breakpoint
ALTER TABLE "upstream_providers" ADD COLUMN "allow_below_cost" boolean DEFAULT false NOT NULL;