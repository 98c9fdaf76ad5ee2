import { syncUpstreamCatalog } from "../../src/domain/providers/catalog-sync.js";
import type { UpstreamName } from "../../src/providers/upstream/types.js";
import type { Harness } from "../helpers/harness.js";
import type { FakeCloud } from "./fakes/server.js";

/** Runs a worker's tick, waiting out a tick a kick may still hold the lock for. */
export async function tick(h: Harness, worker: "provisioning" | "status-sync"): Promise<any> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const result = await h.runWorker(worker);
    if (result !== undefined) return result;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`${worker} stayed locked`);
}

/** The fakes run on the harness's clock; the operator syncs each cloud's catalog. */
export async function connect(h: Harness, fakes: Partial<Record<UpstreamName, FakeCloud>>) {
  for (const [name, fake] of Object.entries(fakes)) {
    fake!.now = () => h.clock.now().getTime();
    const synced = await h.post(`/api/v1/providers/${name}/sync`);
    if (synced.status !== 200) throw new Error(`sync ${name}: ${synced.status} ${synced.text}`);
  }
}

export { syncUpstreamCatalog };

/** The instance as its owner sees it. */
export async function view(h: Harness, id: string, key: string) {
  return (await h.get(`/api/v1/instances/${id}`, key)).body.data;
}
