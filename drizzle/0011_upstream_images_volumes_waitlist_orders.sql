ALTER TABLE "images" ADD COLUMN "upstream_images" jsonb;--> statement-breakpoint
ALTER TABLE "volumes" ADD COLUMN "upstream_provider" text;--> statement-breakpoint
ALTER TABLE "volumes" ADD COLUMN "upstream_ref" text;--> statement-breakpoint
CREATE INDEX "waitlist_instance_idx" ON "waitlist_entries" USING btree ("instance_id");