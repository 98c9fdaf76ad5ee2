ALTER TABLE "images" ADD COLUMN "oci_ref" text;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "session" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "auto_stop_warned_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "image" text;