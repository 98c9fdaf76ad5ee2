ALTER TABLE "nodes" ADD COLUMN "agent_sha256" text;--> statement-breakpoint
ALTER TABLE "nodes" ADD COLUMN "agent_upgrade_requested_at" timestamp with time zone;