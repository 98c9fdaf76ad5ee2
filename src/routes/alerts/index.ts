import type { Router } from "../../http/env.js";
import { alertRoutes } from "./alerts.js";

/** The alerts area's routers, mounted under /api/v1. */
export const routers: Router[] = [alertRoutes];
