import { generateKeyPairSync } from "node:crypto";
import { appendLedgerEntry } from "../../src/domain/billing/ledger.js";
import { usdToMicros } from "../../src/lib/money.js";
import type { Harness } from "../helpers/harness.js";

function wireString(data: Buffer | string): Buffer {
  const body = typeof data === "string" ? Buffer.from(data) : data;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  return Buffer.concat([length, body]);
}

function mpint(bytes: Buffer): Buffer {
  return wireString(bytes[0] & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
}

/** A fresh OpenSSH public key line, built from a real key pair. */
export function sshPublicKey(
  kind: "ed25519" | "rsa" | "ecdsa" = "ed25519",
  bits = 2048,
  comment = "user@host",
): string {
  if (kind === "ed25519") {
    const jwk = generateKeyPairSync("ed25519").publicKey.export({ format: "jwk" });
    const blob = Buffer.concat([wireString("ssh-ed25519"), wireString(Buffer.from(jwk.x!, "base64url"))]);
    return `ssh-ed25519 ${blob.toString("base64")} ${comment}`;
  }
  if (kind === "rsa") {
    const jwk = generateKeyPairSync("rsa", { modulusLength: bits }).publicKey.export({ format: "jwk" });
    const blob = Buffer.concat([
      wireString("ssh-rsa"),
      mpint(Buffer.from(jwk.e!, "base64url")),
      mpint(Buffer.from(jwk.n!, "base64url")),
    ]);
    return `ssh-rsa ${blob.toString("base64")} ${comment}`;
  }
  const jwk = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ format: "jwk" });
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, "base64url"), Buffer.from(jwk.y!, "base64url")]);
  const blob = Buffer.concat([wireString("ecdsa-sha2-nistp256"), wireString("nistp256"), wireString(point)]);
  return `ecdsa-sha2-nistp256 ${blob.toString("base64")} ${comment}`;
}

/** Adds prepaid credit through the ledger (the sign-up credit of $5 is below the $20 minimum to deploy). */
export async function fund(h: Harness, tenantId: number, usd = "100") {
  await h.ctx.db.transaction((tx) =>
    appendLedgerEntry(tx, { tenantId, kind: "grant", amountMicros: usdToMicros(usd), description: "test credit" }),
  );
}

/** A signed-up, funded customer with one SSH key. */
export async function customer(h: Harness, usd = "100") {
  const account = await h.signup();
  await fund(h, account.tenantId, usd);
  const key = await h.post("/api/v1/ssh-keys", { name: "laptop", public_key: sshPublicKey() }, account.key);
  if (key.status !== 201) throw new Error(`ssh key upload failed: ${key.text}`);
  return { ...account, sshKeyId: key.body.data.id as string };
}

/**
 * Runs one status-sync tick. A create or start kicks the worker (ctx.kick), and that tick may still hold the lock
 * when the test asks, so wait for it rather than read a skipped tick as "nothing changed".
 */
export async function syncStatus(h: Harness, advanceMs = 10_000): Promise<any> {
  if (advanceMs) h.clock.advance(advanceMs);
  for (let attempt = 0; attempt < 50; attempt++) {
    const result = await h.runWorker("status-sync");
    if (result !== undefined) return result;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error("status-sync stayed locked");
}
