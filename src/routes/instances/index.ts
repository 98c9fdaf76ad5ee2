import type { Router } from "../../http/env.js";
import { deploymentRoutes } from "./deployments.js";
import { instanceRoutes } from "./instances.js";
import { terminalRoutes } from "./terminal.js";

/** The instances area's routers, mounted under /api/v1. */
export const routers: Router[] = [instanceRoutes, deploymentRoutes, terminalRoutes];
