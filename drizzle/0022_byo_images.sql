CREATE TABLE "launch_templates" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" integer NOT NULL,
	"name" text NOT NULL,
	"image" text,
	"template_slug" text,
	"instance_type" text,
	"env" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"command" text[],
	"disk_gb" integer,
	"ports" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "instances" ADD COLUMN "image_ref" text;--> statement-breakpoint
ALTER TABLE "instances" ADD COLUMN "env" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "instances" ADD COLUMN "command" text[];--> statement-breakpoint
ALTER TABLE "instances" ADD COLUMN "disk_gb" integer;--> statement-breakpoint
ALTER TABLE "instances" ADD COLUMN "ports" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "instances" ADD COLUMN "port_mappings" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "launch_templates" ADD CONSTRAINT "launch_templates_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "launch_templates_tenant_name" ON "launch_templates" USING btree ("tenant_id","name");--> statement-breakpoint
CREATE INDEX "launch_templates_tenant_idx" ON "launch_templates" USING btree ("tenant_id","id");