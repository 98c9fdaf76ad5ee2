ALTER TABLE "nodes" ADD COLUMN "images" jsonb;--> statement-breakpoint
ALTER TABLE "nodes" ADD COLUMN "storage" jsonb;