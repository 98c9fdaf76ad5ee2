ALTER TABLE "audit_log" DROP COLUMN "subject";--> statement-breakpoint
ALTER TABLE "audit_log" DROP COLUMN "detail";--> statement-breakpoint
ALTER TABLE "audit_log" DROP COLUMN "is_operator";