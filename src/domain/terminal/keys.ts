import ssh2 from "ssh2";
import type { AppContext } from "../../context.js";
import { terminalKeys } from "../../db/schema/index.js";

/** The server's terminal key pair: the private half stays in this process and the database, nothing else reads it. */
export interface TerminalKeyPair {
  publicKey: string;
  privateKey: string;
}

const KEY_ID = "default";
const COMMENT = "gpuplane-web-terminal";

/**
 * Reads the terminal key pair, making it on first start. Two replicas starting together both generate one, but the
 * insert keeps only the first and both read that one back, so every replica signs with the same key.
 */
export async function loadTerminalKey(ctx: AppContext): Promise<TerminalKeyPair> {
  const read = async () => (await ctx.db.select().from(terminalKeys))[0];
  const existing = await read();
  if (existing) return { publicKey: existing.publicKey, privateKey: existing.privateKey };
  const made = ssh2.utils.generateKeyPairSync("ed25519", { comment: COMMENT });
  await ctx.db
    .insert(terminalKeys)
    .values({ id: KEY_ID, publicKey: made.public.trim(), privateKey: made.private })
    .onConflictDoNothing();
  const row = (await read())!;
  return { publicKey: row.publicKey, privateKey: row.privateKey };
}

/**
 * The keys an instance's SSH server should accept: the customer's, then the server's terminal key (last, so a cloud
 * that names only the first key, Lambda, still names the customer's). Fleet assignments and upstream launches both
 * send this list; the instance record keeps the customer's keys only.
 */
export function authorizedKeys(ctx: AppContext, instance: { sshPublicKeys: string[] }): string[] {
  const key = (ctx.services.terminal as { keys?: TerminalKeyPair } | undefined)?.keys?.publicKey;
  return key ? [...instance.sshPublicKeys, key] : instance.sshPublicKeys;
}
