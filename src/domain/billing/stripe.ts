import Stripe from "stripe";
import type { AppContext } from "../../context.js";
import { ApiError } from "../../lib/errors.js";
import { divRound } from "../../lib/money.js";

declare module "../../context.js" {
  interface Services {
    /** The Stripe SDK client, present when STRIPE_SECRET_KEY is set (invoices are pushed, top-ups go through Checkout). */
    stripe?: Stripe;
  }
}

export interface StripeEndpoint {
  host: string;
  port: number;
  protocol: "http" | "https";
}

/** The official SDK; `endpoint` points it elsewhere than api.stripe.com (tests use a local fake Stripe). */
export function createStripeClient(secretKey: string, endpoint?: StripeEndpoint): Stripe {
  return new Stripe(secretKey, {
    maxNetworkRetries: 2,
    telemetry: false,
    timeout: 20_000,
    ...(endpoint ?? {}),
  });
}

export const stripeOf = (ctx: AppContext): Stripe | undefined => ctx.services.stripe;

export function requireStripe(ctx: AppContext, what: string): Stripe {
  const stripe = stripeOf(ctx);
  if (!stripe) throw new ApiError("UNAVAILABLE", `${what} needs Stripe: the operator has not set STRIPE_SECRET_KEY`);
  return stripe;
}

/** Stripe charges whole cents: micro-dollars rounded half up to cents (10,000 µ$ = 1 cent). */
export const microsToCents = (micros: bigint): number => Number(divRound(micros, 10_000n));
export const centsToMicros = (cents: number): bigint => BigInt(cents) * 10_000n;
