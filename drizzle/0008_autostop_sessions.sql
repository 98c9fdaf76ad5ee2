ALTER TABLE "api_keys" ADD COLUMN "session" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "auto_stop_warned_at" timestamp with time zone;