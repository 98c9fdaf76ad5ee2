import { bigint, timestamp } from "drizzle-orm/pg-core";

/** Money is always integer micro-dollars (1 USD = 1_000_000), read back as bigint. */
export const micros = (name: string) => bigint(name, { mode: "bigint" });
export const tstz = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });
export const createdAt = () => tstz("created_at").notNull().defaultNow();
