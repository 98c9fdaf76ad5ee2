import { bigint, bigserial, integer, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { createdAt } from "./columns.js";
import { instances } from "./customer.js";

/**
 * The last lines a fleet instance's container printed, as its node agent streamed them: a bounded window per
 * instance (src/domain/logs/ingest.ts drops the oldest), not an archive. A line is keyed by the runtime's own
 * timestamp in microseconds and its place among lines of the same microsecond, so a batch sent twice (a retry, two
 * replicas) stores each line once.
 */
export const instanceLogs = pgTable(
  "instance_logs",
  {
    id: bigserial("id", { mode: "bigint" }).primaryKey(),
    instanceId: text("instance_id")
      .notNull()
      .references(() => instances.id, { onDelete: "cascade" }),
    /** When the container printed it (the runtime's timestamp), microseconds since the epoch. */
    atUs: bigint("at_us", { mode: "number" }).notNull(),
    /** Order among lines of the same microsecond (-1: a note of the agent's, e.g. lines it skipped). */
    seq: integer("seq").notNull(),
    line: text("line").notNull(),
    receivedAt: createdAt(),
  },
  (t) => [uniqueIndex("instance_logs_line_key").on(t.instanceId, t.atUs, t.seq)],
);
