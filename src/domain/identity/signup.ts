import { eq } from "drizzle-orm";
import type { AppContext } from "../../context.js";
import { tenants } from "../../db/schema/index.js";
import { ApiError, isUniqueViolation, UniqueViolation } from "../../lib/errors.js";
import { type Actor, audit, systemActor } from "../audit/audit.js";
import { appendLedgerEntry } from "../billing/ledger.js";
import { createKey, createKeyAudited, keySnapshot } from "./keys.js";
import { hashPassword, verifyPassword } from "./passwords.js";
import { tenantSnapshot } from "./tenants.js";

/** A console session lasts a working day; the console logs in again after it. */
export const CONSOLE_SESSION_MS = 12 * 60 * 60 * 1000;

/**
 * Self-service sign-up: a prepaid tenant, its first API key (full access) and the sign-up credit, in one transaction.
 */
export async function register(
  ctx: AppContext,
  input: { email: string; password: string; name?: string },
  actor: Actor = systemActor,
) {
  const email = input.email.trim().toLowerCase();
  const passwordHash = await hashPassword(input.password);
  try {
    return await ctx.db.transaction(async (tx) => {
      const now = ctx.clock.now();
      const [tenant] = await tx
        .insert(tenants)
        .values({
          name: input.name ?? email,
          email,
          contactEmail: email,
          passwordHash,
          billingMode: "prepaid",
          createdAt: now,
          updatedAt: now,
        })
        .returning();
      const apiKey = await createKey(ctx, tx, { label: "default", tenantId: tenant.id });
      if (ctx.config.signupCreditMicros > 0n) {
        await appendLedgerEntry(tx, {
          tenantId: tenant.id,
          kind: "signup_credit",
          amountMicros: ctx.config.signupCreditMicros,
          description: "Sign-up credit",
          reference: `signup:${tenant.id}`,
          at: now,
        });
      }
      await audit(tx, actor, {
        action: "tenant.signup",
        target: `tenant:${tenant.id}`,
        tenantId: tenant.id,
        after: { ...tenantSnapshot(tenant), api_key: keySnapshot(apiKey) },
      });
      return { tenant, apiKey };
    });
  } catch (error: any) {
    if (isUniqueViolation(error)) throw new UniqueViolation("an account with this email already exists");
    throw error;
  }
}

/**
 * Console login: a valid email and password get a short-lived session token. It authenticates like a full-access
 * key of the tenant but expires, is not listed among the tenant's API keys, and ends with POST /auth/logout.
 */
export async function login(ctx: AppContext, input: { email: string; password: string }, actor: Actor = systemActor) {
  const email = input.email.trim().toLowerCase();
  const [tenant] = await ctx.db.select().from(tenants).where(eq(tenants.email, email));
  // Same answer for an unknown email and a wrong password; verify anyway so timing does not tell them apart.
  const valid = await verifyPassword(input.password, tenant?.passwordHash ?? DUMMY_HASH);
  if (tenant?.passwordHash && (!valid || tenant.status !== "active")) {
    // A refused log-in to an existing account is recorded for its tenant (the email only, never the password);
    // one for an unknown email is not, so that guesses cannot fill the trail.
    await audit(ctx.db, actor, {
      action: "session.login_failed",
      target: `tenant:${tenant.id}`,
      tenantId: tenant.id,
      after: { email, reason: valid ? "inactive" : "wrong password" },
    });
  }
  if (!tenant?.passwordHash || !valid) throw new ApiError("UNAUTHORIZED", "email or password is incorrect");
  if (tenant.status !== "active") throw new ApiError("UNAUTHORIZED", "this account is inactive");
  const apiKey = await createKeyAudited(
    ctx,
    actor,
    {
      label: "console session",
      tenantId: tenant.id,
      expiresAt: new Date(ctx.clock.now().getTime() + CONSOLE_SESSION_MS),
      session: true,
      loginEmail: email,
    },
    { action: "session.login" },
  );
  return { tenant, apiKey };
}

const DUMMY_HASH = "scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
