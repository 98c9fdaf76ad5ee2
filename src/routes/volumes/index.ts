import type { Router } from "../../http/env.js";
import { volumeRoutes } from "./volumes.js";

/** The volumes area's routers, mounted under /api/v1. */
export const routers: Router[] = [volumeRoutes];
