import { index, integer, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";
import { createdAt, tstz } from "./columns.js";
import { tenants } from "./identity.js";

/**
 * The server's own SSH key pair for the web terminal (one row, id `default`): the public half goes into every
 * instance's authorized keys next to the customer's, the private half never leaves the server (no route reads this
 * table). Kept in the database so every replica holds the same pair.
 */
export const terminalKeys = pgTable("terminal_keys", {
  id: text("id").primaryKey(),
  publicKey: text("public_key").notNull(),
  privateKey: text("private_key").notNull(),
  createdAt: createdAt(),
});

/**
 * One web terminal: issued as a single-use ticket (only its SHA-256 stored) bound to the tenant, the instance and the
 * key or console session that asked; claimed by the WebSocket that opens it; closed with why. What was typed or shown
 * is never stored. `seen_at` is refreshed by the replica holding it open, so a replica that died leaves no terminal
 * counted as open for long.
 */
export const terminalSessions = pgTable(
  "terminal_sessions",
  {
    id: text("id").primaryKey(),
    ticketHash: text("ticket_hash").notNull(),
    tenantId: integer("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    instanceId: text("instance_id").notNull(),
    /** The API key or console session (api_keys.id) the ticket was issued to; revoking it closes the terminal. */
    keyId: text("key_id").notNull(),
    createdAt: createdAt(),
    expiresAt: tstz("expires_at").notNull(),
    openedAt: tstz("opened_at"),
    seenAt: tstz("seen_at"),
    closedAt: tstz("closed_at"),
    closeReason: text("close_reason"),
    /** The instance's SSH host key (SHA-256, base64) as seen on open: an audit trail, not a pin. */
    hostKeySha256: text("host_key_sha256"),
  },
  (t) => [
    uniqueIndex("terminal_sessions_ticket_hash_key").on(t.ticketHash),
    index("terminal_sessions_tenant_open_idx").on(t.tenantId, t.closedAt),
  ],
);
