import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

export const sha256Hex = (text: string | Buffer) => createHash("sha256").update(text).digest("hex");

/** A new API key secret: prefix + 64 hex characters (32 random bytes). */
export function newKeySecret(prefix: string): string {
  return prefix + randomBytes(32).toString("hex");
}

export function safeEqualHex(a: string, b: string): boolean {
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  return x.length === y.length && timingSafeEqual(x, y);
}
