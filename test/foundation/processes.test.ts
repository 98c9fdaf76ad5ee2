import { availableParallelism } from "node:os";
import { describe, expect, it } from "vitest";
import { serveOnEveryCore } from "../../src/cluster.js";
import { loadConfig } from "../../src/config.js";

describe("GPUPLANE_PROCESSES", () => {
  it("is one process by default, a count, or one per core with auto", () => {
    expect(loadConfig({}).processes).toBe(1);
    expect(loadConfig({ GPUPLANE_PROCESSES: "4" }).processes).toBe(4);
    expect(loadConfig({ GPUPLANE_PROCESSES: "auto" }).processes).toBe(availableParallelism());
    expect(() => loadConfig({ GPUPLANE_PROCESSES: "0" })).toThrow(/GPUPLANE_PROCESSES/);
    expect(() => loadConfig({ GPUPLANE_PROCESSES: "many" })).toThrow(/GPUPLANE_PROCESSES/);
  });

  it("refuses more than one process on PGlite, which one process serves", async () => {
    const config = loadConfig({ GPUPLANE_PROCESSES: "2", GPUPLANE_DATA_DIR: "/nonexistent" });
    await expect(serveOnEveryCore(config)).rejects.toThrow(/needs DATABASE_URL/);
  });
});
