CREATE TABLE "terminal_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"public_key" text NOT NULL,
	"private_key" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "terminal_sessions" (
	"id" text PRIMARY KEY NOT NULL,
	"ticket_hash" text NOT NULL,
	"tenant_id" integer NOT NULL,
	"instance_id" text NOT NULL,
	"key_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"opened_at" timestamp with time zone,
	"seen_at" timestamp with time zone,
	"closed_at" timestamp with time zone,
	"close_reason" text,
	"host_key_sha256" text
);
--> statement-breakpoint
ALTER TABLE "terminal_sessions" ADD CONSTRAINT "terminal_sessions_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "terminal_sessions_ticket_hash_key" ON "terminal_sessions" USING btree ("ticket_hash");--> statement-breakpoint
CREATE INDEX "terminal_sessions_tenant_open_idx" ON "terminal_sessions" USING btree ("tenant_id","closed_at");