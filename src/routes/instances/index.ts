import type { Router } from "../../http/env.js";
import { deploymentRoutes } from "./deployments.js";
import { instanceRoutes } from "./instances.js";
import { instanceLogRoutes } from "./logs.js";
import { terminalRoutes } from "./terminal.js";

/** The instances area's routers, mounted under /api/v1. */
export const routers: Router[] = [instanceRoutes, instanceLogRoutes, deploymentRoutes, terminalRoutes];
