import type { Router } from "../../http/env.js";
import { clusterRoutes } from "./clusters.js";
import { gpuRoutes } from "./gpus.js";
import { nodeRoutes } from "./nodes.js";

/** The fleet area's routers, mounted under /api/v1. */
export const routers: Router[] = [clusterRoutes, nodeRoutes, gpuRoutes];
