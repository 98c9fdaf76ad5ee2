import type { Router } from "../../http/env.js";
import { deliveryRoutes } from "./deliveries.js";
import { webhookRoutes } from "./endpoints.js";

/** The webhooks area's routers, mounted under /api/v1. */
export const routers: Router[] = [webhookRoutes, deliveryRoutes];
