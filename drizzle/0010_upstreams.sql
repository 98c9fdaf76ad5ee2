CREATE TABLE "upstream_launches" (
	"instance_id" text PRIMARY KEY NOT NULL,
	"candidates" jsonb NOT NULL,
	"next_candidate" integer DEFAULT 0 NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"lease_until" timestamp with time zone,
	"tried" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"upstream_cost_per_hour_micros" bigint,
	"launched_at" timestamp with time zone,
	"last_seen_at" timestamp with time zone,
	"waitlist" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "upstream_offers" (
	"provider" text NOT NULL,
	"upstream_type" text NOT NULL,
	"upstream_region" text NOT NULL,
	"instance_type_id" text NOT NULL,
	"region_id" text NOT NULL,
	"upstream_price_micros" bigint NOT NULL,
	"markup_bps" integer,
	"markup_fixed_micros" bigint,
	"synced_sell_price_micros" bigint,
	"available" integer DEFAULT 0 NOT NULL,
	"synced_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "upstream_offers_provider_upstream_type_upstream_region_pk" PRIMARY KEY("provider","upstream_type","upstream_region")
);
--> statement-breakpoint
CREATE TABLE "upstream_orphans" (
	"provider" text NOT NULL,
	"upstream_id" text NOT NULL,
	"name" text NOT NULL,
	"upstream_status" text NOT NULL,
	"first_seen_at" timestamp with time zone NOT NULL,
	"last_seen_at" timestamp with time zone NOT NULL,
	"terminated_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "upstream_providers" (
	"name" text PRIMARY KEY NOT NULL,
	"markup_bps" integer DEFAULT 0 NOT NULL,
	"markup_fixed_micros" bigint DEFAULT 0 NOT NULL,
	"orphan_grace_seconds" integer DEFAULT 3600 NOT NULL,
	"last_error" text,
	"last_error_at" timestamp with time zone,
	"last_ok_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "upstream_launches" ADD CONSTRAINT "upstream_launches_instance_id_instances_id_fk" FOREIGN KEY ("instance_id") REFERENCES "public"."instances"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "upstream_orphans_key" ON "upstream_orphans" USING btree ("provider","upstream_id");