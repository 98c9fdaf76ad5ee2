import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { judgeGpu, parseXids } from "../src/health.js";
import { NvidiaSmi, parseQueryCsv, QUERY_FIELDS } from "../src/nvidia-smi.js";

const fixtures = join(import.meta.dirname, "fake-nvidia-smi", "fixtures", "h100-80gb-hbm3");
const fake = join(import.meta.dirname, "fake-nvidia-smi", "nvidia-smi");
/** The field list the fixture README names for query-core-{idle,busy}.csv. */
const CORE_FIELDS =
  "index,uuid,name,memory.total,memory.used,driver_version,temperature.gpu,power.draw,power.limit,utilization.gpu,utilization.memory,pci.bus_id,ecc.errors.uncorrected.volatile.total,ecc.errors.corrected.volatile.total,retired_pages.pending,clocks_event_reasons.active,clocks_throttle_reasons.active".split(
    ",",
  );
const options = { maxTemperatureC: 85 };

describe("nvidia-smi parsing (real H100 output)", () => {
  it("reads the captured idle and busy rows, with [N/A] as no value", () => {
    const [idle] = parseQueryCsv(readFileSync(join(fixtures, "query-core-idle.csv"), "utf8"), CORE_FIELDS);
    expect(idle).toMatchObject({
      index: 0,
      uuid: "GPU-7b264f23-a301-88a1-beb5-74619471ddd3",
      name: "NVIDIA H100 80GB HBM3",
      busId: "00000000:00:06.0",
      driverVersion: "580.159.04",
      memoryTotalMb: 81559,
      memoryUsedMb: 0,
      utilizationPct: 0,
      temperatureC: 40,
      powerDrawW: 72.18,
      eccUncorrectedVolatile: 0,
      retiredPagesPending: null, // [N/A] on Hopper
      throttle: [],
    });
    const [busy] = parseQueryCsv(readFileSync(join(fixtures, "query-core-busy.csv"), "utf8"), CORE_FIELDS);
    expect(busy).toMatchObject({ utilizationPct: 100, memoryUsedMb: 1139, temperatureC: 59, powerDrawW: 427.77 });
    // 0x4 (SW power cap) under load is not a health signal.
    expect(judgeGpu(busy, [], options)).toEqual({ health: "healthy", reason: null });
  });

  it("the fake answers the agent's query like the real tool: 8 distinct GPUs, values from the capture", async () => {
    const samples = await new NvidiaSmi(fake).sample();
    expect(samples).toHaveLength(8);
    expect(new Set(samples.map((s) => s.uuid)).size).toBe(8);
    expect(new Set(samples.map((s) => s.busId)).size).toBe(8);
    expect(samples[0]).toMatchObject({
      name: "NVIDIA H100 80GB HBM3",
      memoryTotalMb: 81559,
      retiredPagesPending: null,
    });
    // Field names and units exactly as the capture has them.
    const header = execFileSync(fake, ["--query-gpu=memory.total,power.draw,retired_pages.pending", "--format=csv"], {
      encoding: "utf8",
    }).split("\n")[0];
    expect(header).toBe("memory.total [MiB], power.draw [W], retired_pages.pending");
  });

  it("falls back to clocks_throttle_reasons / drops fields an older driver does not know", async () => {
    const dir = mkdtempSync(join(tmpdir(), "smi-"));
    const old = join(dir, "nvidia-smi");
    // An "old driver": refuses clocks_event_reasons.* and remapped_rows.* like the real tool refuses unknown fields.
    writeFileSync(
      old,
      `#!/bin/sh\ncase "$1" in *clocks_event_reasons*|*remapped_rows*) f=$(echo "$1" | grep -o 'clocks_event_reasons[^,]*\\|remapped_rows[^,]*' | head -1); echo "Field \\"$f\\" is not a valid field to query."; exit 2;; esac\nexec ${fake} "$@"\n`,
      { mode: 0o755 },
    );
    const samples = await new NvidiaSmi(old).sample();
    expect(samples).toHaveLength(8);
    expect(samples[0].remappedRowsFailure).toBeNull();
  });

  it("every field the agent asks for is one the H100's driver knows", () => {
    const known = readFileSync(join(fixtures, "help-query-gpu.txt"), "utf8");
    for (const field of QUERY_FIELDS) expect(known).toContain(`"${field}"`);
  });
});

describe("health rules", () => {
  const base = parseQueryCsv(readFileSync(join(fixtures, "query-core-idle.csv"), "utf8"), CORE_FIELDS)[0];

  it("uncorrected ECC, row-remap failure, retired pages pending and critical Xids make a GPU unhealthy", () => {
    expect(judgeGpu({ ...base, eccUncorrectedVolatile: 2 }, [], options).health).toBe("unhealthy");
    expect(judgeGpu({ ...base, remappedRowsFailure: true }, [], options).reason).toBe("row remapping failure");
    expect(judgeGpu({ ...base, retiredPagesPending: true }, [], options).health).toBe("unhealthy");
    expect(judgeGpu(base, [79], options)).toEqual({ health: "unhealthy", reason: "Xid 79" });
    expect(judgeGpu(base, [13], options).health).toBe("healthy"); // an application error, not the GPU's
  });

  it("thermal or power-brake throttling, or heat over the threshold, degrade it", () => {
    expect(judgeGpu({ ...base, throttle: ["hw_slowdown", "hw_thermal_slowdown"] }, [], options)).toEqual({
      health: "degraded",
      reason: "HW thermal slowdown",
    });
    expect(judgeGpu({ ...base, throttle: ["hw_power_brake_slowdown"] }, [], options).health).toBe("degraded");
    expect(judgeGpu({ ...base, throttle: ["sw_thermal_slowdown"] }, [], options).health).toBe("degraded");
    expect(judgeGpu({ ...base, temperatureC: 90 }, [], options).reason).toMatch(/temperature 90 C/);
  });

  it("reads Xids from kernel log lines by PCI bus id", () => {
    const xids = parseXids(
      "[ 12.3] NVRM: Xid (PCI:0000:18:00): 79, pid=0, GPU has fallen off the bus.\nNVRM: Xid (PCI:0000:28:00): 13, Graphics Exception",
    );
    expect(xids.get("00000000:18:00.0")).toEqual([79]);
    expect(xids.get("00000000:28:00.0")).toEqual([13]);
  });
});
