ALTER TABLE "api_keys" ADD COLUMN "created_by_session_id" text;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "login_email" text;--> statement-breakpoint
CREATE INDEX "api_keys_created_by_session_idx" ON "api_keys" USING btree ("created_by_session_id");