import type { Router } from "../../http/env.js";
import { jobRoutes } from "./jobs.js";

/** The jobs area's routers, mounted under /api/v1. */
export const routers: Router[] = [jobRoutes];
