import { createHash } from "node:crypto";
import { badRequest } from "../../lib/errors.js";

export interface ParsedPublicKey {
  keyType: string;
  bits: number;
  /** Like `ssh-keygen -lf`: "SHA256:" + unpadded base64 of the SHA-256 of the key blob. */
  fingerprint: string;
  /** `type base64 [comment]`, whitespace normalised. */
  normalized: string;
  comment: string | null;
}

const MIN_RSA_BITS = 2048;
const ecdsaCurves: Record<string, { curve: string; bits: number; pointBytes: number }> = {
  "ecdsa-sha2-nistp256": { curve: "nistp256", bits: 256, pointBytes: 65 },
  "ecdsa-sha2-nistp384": { curve: "nistp384", bits: 384, pointBytes: 97 },
  "ecdsa-sha2-nistp521": { curve: "nistp521", bits: 521, pointBytes: 133 },
};
const supported = ["ssh-ed25519", "ssh-rsa", ...Object.keys(ecdsaCurves)];

/**
 * Parses an OpenSSH public key line (`ssh-ed25519 AAAA… user@host`) down to its wire format (RFC 4253 §6.6,
 * RFC 5656, RFC 8709), so garbage, truncated keys and weak RSA keys are refused at upload rather than at boot.
 */
export function parsePublicKey(input: string): ParsedPublicKey {
  const text = input.trim();
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text) || text.includes("PRIVATE KEY")) {
    throw badRequest(
      "public_key is a private key; upload the public half (the .pub file) and keep the private key secret",
    );
  }
  if (text.includes("\n")) throw badRequest("public_key must be a single line: '<type> <base64> [comment]'");
  const [declared, encoded, ...rest] = text.split(/\s+/);
  if (!encoded) throw badRequest("public_key is not an OpenSSH public key: expected '<type> <base64> [comment]'");
  if (declared === "ssh-dss")
    throw badRequest("public_key: DSA keys are not accepted; use ssh-ed25519 or RSA ≥ 2048 bits");
  if (!supported.includes(declared)) {
    throw badRequest(`public_key type '${declared.slice(0, 40)}' is not supported; use one of ${supported.join(", ")}`);
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) {
    throw badRequest("public_key: the key data is not valid base64");
  }
  const blob = Buffer.from(encoded, "base64");
  const reader = new WireReader(blob);
  const wireType = reader.string().toString("latin1");
  if (wireType !== declared) {
    throw badRequest(`public_key says '${declared}' but its key data is a '${wireType.slice(0, 40)}' key`);
  }
  let bits: number;
  if (declared === "ssh-ed25519") {
    const key = reader.string();
    if (key.length !== 32) throw badRequest(`public_key: an ed25519 key is 32 bytes, this one is ${key.length}`);
    bits = 256;
  } else if (declared === "ssh-rsa") {
    const e = reader.mpint();
    const n = reader.mpint();
    if (e.length === 0 || n.length === 0) throw badRequest("public_key: the RSA key has an empty exponent or modulus");
    bits = bitLength(n);
    if (bits < MIN_RSA_BITS) {
      throw badRequest(`public_key: RSA keys must be at least ${MIN_RSA_BITS} bits; this one is ${bits} bits`);
    }
  } else {
    const spec = ecdsaCurves[declared];
    const curve = reader.string().toString("latin1");
    if (curve !== spec.curve) throw badRequest(`public_key: curve '${curve.slice(0, 20)}' does not match ${declared}`);
    const point = reader.string();
    if (point.length !== spec.pointBytes || point[0] !== 0x04) {
      throw badRequest(`public_key: the ${spec.curve} point is malformed`);
    }
    bits = spec.bits;
  }
  if (!reader.done()) throw badRequest("public_key: unexpected bytes after the key data");
  const comment = rest.join(" ") || null;
  return {
    keyType: declared,
    bits,
    fingerprint: `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`,
    normalized: comment ? `${declared} ${encoded} ${comment}` : `${declared} ${encoded}`,
    comment,
  };
}

/** Reads SSH wire-format fields: uint32 big-endian length, then that many bytes. */
class WireReader {
  private offset = 0;
  constructor(private buf: Buffer) {}

  string(): Buffer {
    if (this.offset + 4 > this.buf.length) throw badRequest("public_key: the key data is truncated");
    const length = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    if (this.offset + length > this.buf.length) throw badRequest("public_key: the key data is truncated");
    const out = this.buf.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  /** A positive mpint without its sign-padding zero bytes. */
  mpint(): Buffer {
    const raw = this.string();
    let start = 0;
    while (start < raw.length && raw[start] === 0) start++;
    return raw.subarray(start);
  }

  done(): boolean {
    return this.offset === this.buf.length;
  }
}

function bitLength(magnitude: Buffer): number {
  return (magnitude.length - 1) * 8 + (32 - Math.clz32(magnitude[0]));
}
