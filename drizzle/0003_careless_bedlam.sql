CREATE TABLE "gpu_metrics_1h" (
	"gpu_id" integer NOT NULL,
	"bucket" timestamp with time zone NOT NULL,
	"samples" integer NOT NULL,
	"utilization_avg" real,
	"utilization_max" real,
	"memory_used_avg" real,
	"memory_total_max" integer,
	"temperature_avg" real,
	"temperature_max" real,
	"power_draw_avg" real,
	"power_draw_max" real,
	CONSTRAINT "gpu_metrics_1h_pkey" PRIMARY KEY("gpu_id","bucket")
);
--> statement-breakpoint
CREATE TABLE "gpu_metrics_1m" (
	"gpu_id" integer NOT NULL,
	"bucket" timestamp with time zone NOT NULL,
	"samples" integer NOT NULL,
	"utilization_avg" real,
	"utilization_max" real,
	"memory_used_avg" real,
	"memory_total_max" integer,
	"temperature_avg" real,
	"temperature_max" real,
	"power_draw_avg" real,
	"power_draw_max" real,
	CONSTRAINT "gpu_metrics_1m_pkey" PRIMARY KEY("gpu_id","bucket")
);
--> statement-breakpoint
CREATE TABLE "metrics_rollup_state" (
	"name" text PRIMARY KEY NOT NULL,
	"rolled_until" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "gpu_metrics_1h_bucket_idx" ON "gpu_metrics_1h" USING btree ("bucket");--> statement-breakpoint
CREATE INDEX "gpu_metrics_1m_bucket_idx" ON "gpu_metrics_1m" USING btree ("bucket");