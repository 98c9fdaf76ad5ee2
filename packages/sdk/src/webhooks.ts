/**
 * Verifies a webhook delivery as Standard Webhooks define it (https://www.standardwebhooks.com): the signature is
 * HMAC-SHA256 over `${webhook-id}.${webhook-timestamp}.${body}`, keyed by the base64 part of the `whsec_` secret,
 * sent as `v1,<base64>` (several, space-separated, while a secret rotates). WebCrypto only, so it runs in Node,
 * browsers and edge runtimes alike.
 */
export class WebhookVerificationError extends Error {
  override name = "WebhookVerificationError";
}

export interface VerifyOptions {
  /** Oldest and newest accepted timestamp, in seconds from now (default 300, as the standard suggests). */
  toleranceSeconds?: number;
  now?: () => number;
}

type HeaderSource = Headers | Record<string, string | string[] | undefined>;

function header(headers: HeaderSource, name: string): string | undefined {
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  return Array.isArray(value) ? value[0] : value;
}

function base64ToBytes(value: string): Uint8Array<ArrayBuffer> {
  const binary = atob(value);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** Constant-time comparison of two strings of the same length. */
function equal(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/**
 * Checks the signature and timestamp of a delivery and returns its parsed JSON payload; throws
 * WebhookVerificationError otherwise. Pass the body exactly as received (the raw text, not a re-serialised object).
 */
export async function verifyWebhook<T = unknown>(
  secret: string,
  body: string,
  headers: HeaderSource,
  options: VerifyOptions = {},
): Promise<T> {
  const id = header(headers, "webhook-id");
  const timestamp = header(headers, "webhook-timestamp");
  const signatures = header(headers, "webhook-signature");
  if (!id || !timestamp || !signatures) {
    throw new WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature header");
  }
  const seconds = Number(timestamp);
  const now = Math.floor((options.now?.() ?? Date.now()) / 1000);
  const tolerance = options.toleranceSeconds ?? 300;
  if (!Number.isInteger(seconds) || Math.abs(now - seconds) > tolerance) {
    throw new WebhookVerificationError("webhook timestamp is missing or outside the tolerance");
  }
  let keyBytes: Uint8Array<ArrayBuffer>;
  try {
    keyBytes = base64ToBytes(secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret);
  } catch {
    throw new WebhookVerificationError("webhook secret is not a whsec_ base64 secret");
  }
  const key = await crypto.subtle.importKey("raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const signed = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${id}.${timestamp}.${body}`));
  const expected = bytesToBase64(new Uint8Array(signed));
  const matches = signatures
    .split(" ")
    .some((candidate) => candidate.startsWith("v1,") && equal(candidate.slice(3), expected));
  if (!matches) throw new WebhookVerificationError("webhook signature does not match");
  try {
    return JSON.parse(body) as T;
  } catch {
    throw new WebhookVerificationError("webhook body is not JSON");
  }
}
