import type { Router } from "../../http/env.js";
import { auditRoutes } from "./audit-log.js";

/** The audit trail's routers, mounted under /api/v1. */
export const routers: Router[] = [auditRoutes];
