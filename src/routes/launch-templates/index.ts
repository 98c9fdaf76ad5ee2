import type { Router } from "../../http/env.js";
import { launchTemplateRoutes } from "./launch-templates.js";

/** Saved launch settings (own image, env, command, disk, ports) and the registry policy they follow. */
export const routers: Router[] = [launchTemplateRoutes];
