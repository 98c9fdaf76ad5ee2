ALTER TABLE "waitlist_entries" ADD COLUMN "requested_type" text;--> statement-breakpoint
ALTER TABLE "webhook_endpoints" ADD COLUMN "failing_since" timestamp with time zone;