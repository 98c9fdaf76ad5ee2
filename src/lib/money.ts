/**
 * Money is integer micro-dollars in a bigint: 1 USD = 1_000_000 micros. Never a float.
 * Parsing a decimal string or number goes through its decimal text, digit by digit.
 */
export const MICROS_PER_USD = 1_000_000n;

/** Normalises what the PGlite and pg drivers return for int8/numeric (bigint, number or string) to bigint. */
export function toMicros(value: unknown): bigint {
  if (typeof value === "bigint") return value;
  if (value === null || value === undefined) return 0n;
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new Error(`not an integer amount of micros: ${value}`);
    return BigInt(value);
  }
  const text = String(value);
  // numeric sums come back as "123" or "123.000000"
  const [whole, fraction = ""] = text.split(".");
  if (/[1-9]/.test(fraction)) throw new Error(`not an integer amount of micros: ${text}`);
  return BigInt(whole);
}

/** "12.5" | 12.5 → 12_500_000n. Rejects more than 6 decimals, exponents, NaN and infinities. */
export function usdToMicros(value: string | number): bigint {
  const text = typeof value === "number" ? numberToPlainString(value) : value.trim();
  const match = /^(-)?(\d+)(?:\.(\d{1,6}))?$/.exec(text);
  if (!match) throw new RangeError(`not a dollar amount with at most 6 decimals: ${text}`);
  const [, sign, whole, fraction = ""] = match;
  const micros = BigInt(whole) * MICROS_PER_USD + BigInt(fraction.padEnd(6, "0"));
  return sign ? -micros : micros;
}

function numberToPlainString(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`not a finite amount: ${value}`);
  // Shortest round-trip text of the double: 0.1 → "0.1", never "0.1000000000000000055…".
  const text = String(value);
  if (/e/i.test(text)) return value.toFixed(6).replace(/\.?0+$/, "");
  return text;
}

/** 12_500_000n → "12.500000". Exact decimal text for API responses. */
export function microsToUsd(micros: bigint): string {
  const negative = micros < 0n;
  const abs = negative ? -micros : micros;
  const whole = abs / MICROS_PER_USD;
  const fraction = (abs % MICROS_PER_USD).toString().padStart(6, "0");
  return `${negative ? "-" : ""}${whole}.${fraction}`;
}

/** Dollars as a JSON number for display fields (`balance_usd`), rounded to the cent from the exact value. */
export function microsToUsdNumber(micros: bigint): number {
  return Number(microsToUsd(micros));
}

/** Integer division rounding half away from zero — the one rounding rule for prorated charges. */
export function divRound(numerator: bigint, denominator: bigint): bigint {
  const negative = numerator < 0n !== denominator < 0n;
  const n = numerator < 0n ? -numerator : numerator;
  const d = denominator < 0n ? -denominator : denominator;
  const q = (n * 2n + d) / (2n * d);
  return negative ? -q : q;
}
