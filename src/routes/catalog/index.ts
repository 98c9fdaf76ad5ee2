import type { Router } from "../../http/env.js";
import { browseRoutes } from "./browse.js";
import { manageRoutes } from "./manage.js";

/** The catalog area's routers, mounted under /api/v1. */
export const routers: Router[] = [browseRoutes, manageRoutes];
