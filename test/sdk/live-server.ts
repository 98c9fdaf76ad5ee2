import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import pino from "pino";
import { buildServer } from "../../src/server.js";
import { clientFor, type DbKind, freshDatabase, OPERATOR_KEY, testConfig } from "../helpers/harness.js";

/**
 * A whole gpuplane server listening on 127.0.0.1 and a random port, with its background loops running and the
 * simulator provisioning in a second: what the SDKs and the CLI talk to over real HTTP, as a customer's would.
 */
export async function startLiveServer(kind: DbKind = "pglite", env: Record<string, string> = {}) {
  const fresh = await freshDatabase(kind);
  const server = await buildServer(testConfig({ GPUPLANE_SIMULATOR_PROVISION_S: "1", ...env }), {
    database: fresh.database,
    log: pino({ level: "silent" }),
    workers: true,
  });
  server.startWorkers();
  const http = serve({ fetch: server.app.fetch, hostname: "127.0.0.1", port: 0 });
  await new Promise<void>((resolve) => (http.listening ? resolve() : http.once("listening", () => resolve())));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return {
    url,
    operatorKey: OPERATOR_KEY,
    ctx: server.ctx,
    ...clientFor(server),
    async close() {
      await new Promise<void>((resolve) => {
        (http as any).closeAllConnections?.();
        http.close(() => resolve());
      });
      await server.close();
      await fresh.drop();
    },
  };
}
export type LiveServer = Awaited<ReturnType<typeof startLiveServer>>;
