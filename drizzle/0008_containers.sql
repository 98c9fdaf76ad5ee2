ALTER TABLE "images" ADD COLUMN "oci_ref" text;--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "image" text;