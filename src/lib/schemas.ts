import { z } from "@hono/zod-openapi";
import { usdToMicros } from "./money.js";

/**
 * Bounded input types, one per kind of value, so that no request can carry a number, date, amount or name that a
 * column cannot hold (PostgreSQL would answer with a type error: a 500) or that poisons a later read.
 */

/** The largest value an int4 (serial) column holds. */
export const INT4_MAX = 2_147_483_647;

/** An integer in a JSON body that fits an int4 column; `min` 1 by default (ids, counts). */
export const int32 = (min = 1, max = INT4_MAX) => z.number().int().min(min).max(max);

/**
 * An integer in the URL (path or query): decimal digits only. `z.coerce.number()` would read "0x1", "1e0", " 1" or ""
 * as numbers, so `/tenants/0x1` reached tenant 1.
 */
export const urlInt = (min = 1, max = INT4_MAX) =>
  z.preprocess((v) => (typeof v === "string" && /^-?[0-9]{1,20}$/.test(v) ? Number(v) : v), int32(min, max));

/**
 * The smallest magnitude a `real` (float4) column stores: a denormal such as 4e-242 underflows in PostgreSQL (a 500
 * when it was stored). Zero is fine; anything nonzero must be at least this big.
 */
export const REAL_MIN = 1e-30;
export const isStorableReal = (v: number) => v === 0 || Math.abs(v) >= REAL_MIN;

/** A measurement or threshold for a `real` column, within [min, max] and storable. */
export const real = (min: number, max: number) =>
  z
    .number()
    .min(min)
    .max(max)
    .refine(isStorableReal, { message: `must be 0 or at least ${REAL_MIN} in size` });

/** The largest money amount one request may move: a million dollars, far below what an int8 of micros holds. */
export const MAX_USD = 1_000_000;

/** A dollar amount as a decimal string ("25.50") or a JSON number (25.5), read digit by digit into micros. */
export const usdAmount = (maxUsd = MAX_USD) =>
  z
    .union([z.string().max(40), z.number()])
    .transform((value, ctx) => {
      let micros: bigint;
      try {
        micros = usdToMicros(value);
      } catch (error) {
        ctx.addIssue({ code: "custom", message: (error as Error).message });
        return z.NEVER;
      }
      const bound = BigInt(maxUsd) * 1_000_000n;
      if (micros > bound || micros < -bound) {
        ctx.addIssue({ code: "custom", message: `must be between -${maxUsd} and ${maxUsd} dollars` });
        return z.NEVER;
      }
      return micros;
    })
    .openapi({ type: "string", example: "25.00", description: `US dollars, at most 6 decimals, at most ${maxUsd}` });

/** The oldest date gpuplane accepts anywhere (no GPU cloud's data is older); dates before it are typos or probes. */
export const EARLIEST = new Date("2000-01-01T00:00:00Z");
/** The latest date accepted for a period end or an expiry. */
export const LATEST = new Date("2200-01-01T00:00:00Z");

/** An ISO 8601 timestamp with offset, within [EARLIEST, LATEST): year 19 and year 275760 are refused. */
export const isoDate = () =>
  z.iso.datetime({ offset: true }).refine(
    (text) => {
      const t = Date.parse(text);
      return t >= EARLIEST.getTime() && t < LATEST.getTime();
    },
    { message: `must be between ${EARLIEST.toISOString().slice(0, 10)} and ${LATEST.toISOString().slice(0, 10)}` },
  );

/**
 * C0/C1 controls (tab and newline included: a name is one line), ANSI escapes (ESC is C0), zero-width and bidi
 * overrides/isolates: a stored name containing them can rewrite a terminal line or reorder what a reader sees.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters being refused
export const unsafeNameChars = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/;

/** A display name: trimmed, 1..max characters, no control, escape or bidi characters. */
export const safeName = (max = 200) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine((s) => !unsafeNameChars.test(s), { message: "must not contain control, escape or bidi characters" });
