import type { instances } from "../../db/schema/index.js";

/** An instance as stored: what the lifecycle, the placement providers and the views read. */
export type InstanceRow = typeof instances.$inferSelect;
