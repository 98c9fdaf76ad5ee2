import type { Router } from "../../http/env.js";
import { metricRoutes } from "./metrics.js";

/** The metrics area's routers, mounted under /api/v1. */
export const routers: Router[] = [metricRoutes];
