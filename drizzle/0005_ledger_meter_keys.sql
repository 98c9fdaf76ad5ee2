ALTER TABLE "ledger_entries" DROP CONSTRAINT "ledger_entries_tenant_id_tenants_id_fk";
--> statement-breakpoint
DROP INDEX "ledger_reference_key";--> statement-breakpoint
CREATE UNIQUE INDEX "ledger_reference_key" ON "ledger_entries" USING btree ("reference" collate "C");