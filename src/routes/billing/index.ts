import type { Router } from "../../http/env.js";
import { balanceRoutes } from "./balance.js";
import { invoiceRoutes } from "./invoices.js";
import { topupRoutes } from "./topups.js";
import { usageRoutes } from "./usage.js";

/** The billing area's routers, mounted under /api/v1. */
export const routers: Router[] = [balanceRoutes, usageRoutes, invoiceRoutes, topupRoutes];
