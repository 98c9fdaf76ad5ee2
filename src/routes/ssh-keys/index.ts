import type { Router } from "../../http/env.js";
import { sshKeyRoutes } from "./ssh-keys.js";

/** The ssh-keys area's routers, mounted under /api/v1. */
export const routers: Router[] = [sshKeyRoutes];
