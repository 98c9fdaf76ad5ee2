import type { Router } from "../http/env.js";
import { routers as agent } from "./agent/index.js";
import { routers as alerts } from "./alerts/index.js";
import { routers as audit } from "./audit/index.js";
import { routers as billing } from "./billing/index.js";
import { routers as catalog } from "./catalog/index.js";
import { routers as dashboard } from "./dashboard/index.js";
import { routers as fleet } from "./fleet/index.js";
import { apiKeyRoutes } from "./identity/api-keys.js";
import { authRoutes } from "./identity/auth.js";
import { sessionRoutes } from "./identity/sessions.js";
import { tenantRoutes } from "./identity/tenants.js";
import { whoamiRoutes } from "./identity/whoami.js";
import { routers as instances } from "./instances/index.js";
import { routers as jobs } from "./jobs/index.js";
import { routers as launchTemplates } from "./launch-templates/index.js";
import { routers as metrics } from "./metrics/index.js";
import { routers as upstreamProviders } from "./providers/index.js";
import { routers as sshKeys } from "./ssh-keys/index.js";
import { routers as volumes } from "./volumes/index.js";
import { routers as waitlist } from "./waitlist/index.js";
import { routers as webhooks } from "./webhooks/index.js";

/** Every domain's routes under /api/v1. Each area owns its folder and lists its routers in its index.ts. */
export function mountRoutes(app: Router) {
  const all: Router[] = [
    authRoutes,
    whoamiRoutes,
    apiKeyRoutes,
    sessionRoutes,
    tenantRoutes,
    ...catalog,
    ...instances,
    ...launchTemplates,
    ...sshKeys,
    ...volumes,
    ...waitlist,
    ...webhooks,
    ...billing,
    ...fleet,
    ...metrics,
    ...jobs,
    ...alerts,
    ...dashboard,
    ...agent,
    ...upstreamProviders,
    ...audit,
  ];
  for (const routes of all) app.route("/api/v1", routes);
}
