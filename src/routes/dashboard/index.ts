import type { Router } from "../../http/env.js";
import { dashboardRoutes } from "./dashboard.js";
import { tenantUsageRoutes } from "./usage.js";

/** The dashboard area's routers, mounted under /api/v1 (tenant usage reports live here too). */
export const routers: Router[] = [dashboardRoutes, tenantUsageRoutes];
