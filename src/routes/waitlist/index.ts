import type { Router } from "../../http/env.js";
import { waitlistRoutes } from "./entries.js";

/** The waitlist area's routers, mounted under /api/v1. */
export const routers: Router[] = [waitlistRoutes];
