-- gpu_metrics becomes a table partitioned by day on ts (PostgreSQL and PGlite alike). Same columns and index name
-- as the Drizzle schema, so later `drizzle-kit generate` runs see no difference. The metrics-maintenance worker
-- creates the daily partitions ahead (gpu_metrics_pYYYYMMDD) and drops them past retention; samples outside every
-- daily partition land in gpu_metrics_default until the worker moves them. Rows already stored are carried over.
ALTER TABLE "gpu_metrics" RENAME TO "gpu_metrics_unpartitioned";--> statement-breakpoint
ALTER INDEX "gpu_metrics_gpu_ts_idx" RENAME TO "gpu_metrics_unpartitioned_gpu_ts_idx";--> statement-breakpoint
CREATE TABLE "gpu_metrics" (
	"gpu_id" integer NOT NULL,
	"ts" timestamp with time zone NOT NULL,
	"utilization_pct" real,
	"memory_used_mb" integer,
	"memory_total_mb" integer,
	"temperature_c" real,
	"power_draw_w" real
) PARTITION BY RANGE ("ts");--> statement-breakpoint
CREATE INDEX "gpu_metrics_gpu_ts_idx" ON "gpu_metrics" USING btree ("gpu_id","ts" desc);--> statement-breakpoint
CREATE TABLE "gpu_metrics_default" PARTITION OF "gpu_metrics" DEFAULT;--> statement-breakpoint
INSERT INTO "gpu_metrics" SELECT * FROM "gpu_metrics_unpartitioned";--> statement-breakpoint
DROP TABLE "gpu_metrics_unpartitioned";
