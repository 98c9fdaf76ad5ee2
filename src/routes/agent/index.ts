import type { Router } from "../../http/env.js";
import { assignmentRoutes } from "./assignments.js";
import { heartbeatRoutes } from "./heartbeat.js";
import { joinRoutes } from "./join.js";
import { joinTokenRoutes } from "./join-tokens.js";
import { agentLogRoutes } from "./logs.js";
import { reportRoutes } from "./reports.js";

/** The agent area's routers, mounted under /api/v1. */
export const routers: Router[] = [
  joinTokenRoutes,
  joinRoutes,
  heartbeatRoutes,
  assignmentRoutes,
  reportRoutes,
  agentLogRoutes,
];
