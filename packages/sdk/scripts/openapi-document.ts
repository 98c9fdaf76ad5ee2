/**
 * The API's OpenAPI document, built from the app in-process (an in-memory PGlite, no workers, no port): the SDK's
 * types are regenerated from the routes as they are in this checkout, with no server to start.
 *
 * This file is a development script of the repository, not part of the published SDK: it imports the server.
 */
import pino from "pino";
import { loadConfig } from "../../../src/config.js";
import { openDatabase } from "../../../src/db/client.js";
import { buildServer } from "../../../src/server.js";

export async function buildOpenApiDocument(): Promise<Record<string, any>> {
  const database = await openDatabase({ dataDir: "memory://" });
  const log = pino({ level: "silent" });
  // Only the settings that shape the document are fixed; the rest are the defaults a fresh clone runs with.
  const config = loadConfig({ GPUPLANE_WORKERS: "off", LOG_LEVEL: "silent" });
  const server = await buildServer(config, { database, log, workers: false });
  try {
    const res = await server.app.request("/openapi.json");
    if (res.status !== 200) throw new Error(`/openapi.json answered ${res.status}`);
    return (await res.json()) as Record<string, any>;
  } finally {
    await server.close();
    await database.close();
  }
}
