import type { AppContext } from "../../context.js";
import { seedDefaultAlertRules } from "../alerts/defaults.js";

/** Called once at start-up by the composition root: fills ctx.services and seeds what a fresh install needs. */
export async function setup(ctx: AppContext): Promise<void> {
  await seedDefaultAlertRules(ctx);
}
