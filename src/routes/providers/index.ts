import type { Router } from "../../http/env.js";
import { providerRoutes } from "./providers.js";

/** The resold clouds' operator routes, mounted under /api/v1. */
export const routers: Router[] = [providerRoutes];
