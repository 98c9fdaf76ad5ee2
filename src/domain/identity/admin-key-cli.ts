import { parseArgs } from "node:util";
import pino from "pino";
import { loadConfig } from "../../config.js";
import type { AppContext } from "../../context.js";
import { openDatabase } from "../../db/client.js";
import { EventBus } from "../../lib/bus.js";
import { systemClock } from "../../lib/clock.js";
import { issueOperatorKey } from "./keys.js";

const usage = `usage: gpuplane admin-key [--label TEXT]

Issues a new operator key (scopes all; read, write, admin) straight into the database named by DATABASE_URL or
GPUPLANE_DATA_DIR, and prints its secret once. Run it on the server's machine to recover operator access when every
operator key is lost. With the embedded database, stop the server first (PGlite serves one process).
`;

/** `gpuplane admin-key`: whoever can reach the database can already do anything, so this needs no other credential. */
export async function runAdminKeyCli(args: string[], out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const { values } = parseArgs({ args, options: { label: { type: "string" }, help: { type: "boolean", short: "h" } } });
  if (values.help) {
    out.write(usage);
    return;
  }
  const config = loadConfig();
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    // Only the database, clock and key settings are used to issue a key; no services or workers are started.
    const ctx = {
      database,
      db: database.db,
      config,
      clock: systemClock,
      log: pino({ level: "silent" }),
      kick: () => {},
      services: {} as AppContext["services"],
      bus: new EventBus(),
    } satisfies AppContext;
    const label = values.label ?? `operator (gpuplane admin-key ${new Date().toISOString().slice(0, 10)})`;
    const key = await issueOperatorKey(ctx, label);
    out.write(`${key.key}\n`);
    process.stderr.write(`operator key ${key.id} issued (${database.kind}); the secret above is shown only once\n`);
  } finally {
    await database.close();
  }
}
