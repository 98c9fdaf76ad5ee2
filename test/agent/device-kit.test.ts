// The device kit (issue 19 item 8): `npm run build:device-kit` writes a folder that, carried to a host with only
// `node`, runs scripts/device-check.sh end to end: the single-file agent, the bundled server on its embedded database,
// the agent joined, a job, the GPUs and metrics the server stored. Here it runs from a copy in an empty temp folder
// (no checkout, no node_modules above it) with the fake nvidia-smi, copied there too.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fakeNvidiaSmiDir } from "./spawn-agent.js";

const size = (path: string): number =>
  statSync(path).isDirectory() ? readdirSync(path).reduce((n, f) => n + size(join(path, f)), 0) : statSync(path).size;

/** Every folder from `path` up to / that has a node_modules in it. */
function nodeModulesAbove(path: string): string[] {
  const found: string[] = [];
  for (let dir = path; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "node_modules"))) found.push(dir);
    if (dirname(dir) === dir) return found;
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** device-check.sh from the carried kit, in an empty folder, with only node, the system's tools and `extraPath`. */
async function deviceCheck(host: string, out: string, extraPath: string[]) {
  const cwd = mkdtempSync(join(dirname(host), "cwd-"));
  const run = spawnSync("bash", [join(host, "device-check.sh")], {
    cwd,
    env: {
      PATH: [...extraPath, dirname(process.execPath), "/usr/bin", "/bin"].join(":"),
      HOME: cwd,
      OUT: out,
      // The fake GPUs run no CUDA: the job's workload is nvidia-smi even where the machine has nvcc or torch.
      GPUPLANE_DEVICE_WORKLOAD: "nvidia-smi",
      PORT: String(await freePort()),
    },
    encoding: "utf8",
    timeout: 120_000,
  });
  const report = existsSync(join(out, "device-report.txt")) ? readFileSync(join(out, "device-report.txt"), "utf8") : "";
  const serverLog = existsSync(join(out, "server.log")) ? readFileSync(join(out, "server.log"), "utf8") : "";
  return { run, report, serverLog };
}

/** The JSON body the report printed on the line after `marker` (the check tees each API answer on its own line). */
function jsonAfter(report: string, marker: string): any {
  const lines = report.split("\n");
  const at = lines.findIndex((line) => line.startsWith(marker));
  expect(at, `report has no line starting with ${marker}`).toBeGreaterThanOrEqual(0);
  return JSON.parse(lines[at + 1]);
}

describe("device kit", () => {
  // A folder in the system's temp dir, away from any checkout: the kit must not lean on node_modules above it.
  const dir = mkdtempSync(join(tmpdir(), "gpuplane-kit-"));
  const kit = join(dir, "kit");
  const host = join(dir, "host", "device-kit");
  const smi = join(dir, "fake-nvidia-smi");
  let built: ReturnType<typeof spawnSync>;

  beforeAll(() => {
    built = spawnSync("npm", ["run", "--silent", "build:device-kit", "--", kit], { encoding: "utf8" });
    if (built.status === 0) cpSync(kit, host, { recursive: true });
    cpSync(fakeNvidiaSmiDir, smi, { recursive: true });
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("builds a folder under 20 MB, and a tarball, with the agent, the server bundle, PGlite's files and migrations", () => {
    expect(built.status, String(built.stderr)).toBe(0);
    expect(readdirSync(kit).sort()).toEqual([
      "VERSION",
      "agent",
      "build-test-image.sh",
      "device-check.sh",
      "gpuplane-agent.mjs",
      "server",
    ]);
    const server = readdirSync(join(kit, "server"));
    for (const file of ["gpuplane-server.mjs", "pglite-initdb.mjs", "pglite.wasm", "pglite.data", "initdb.wasm"]) {
      expect(server).toContain(file);
    }
    expect(
      readdirSync(join(kit, "server/drizzle"))
        .filter((f) => f.endsWith(".sql"))
        .sort(),
    ).toEqual(
      readdirSync("drizzle")
        .filter((f) => f.endsWith(".sql"))
        .sort(),
    );
    expect(size(kit)).toBeLessThan(20 * 1000 * 1000);
    expect(size(`${kit}.tar.gz`)).toBeLessThan(size(kit) / 2);
    expect(nodeModulesAbove(host)).toEqual([]);
  });

  it("runs its agent's --version from an empty directory with only node", () => {
    const empty = mkdtempSync(join(dir, "cwd-"));
    const run = spawnSync(process.execPath, [join(host, "gpuplane-agent.mjs"), "--version"], {
      cwd: empty,
      env: { PATH: dirname(process.execPath), HOME: empty },
      encoding: "utf8",
    });
    expect(run.status, run.stderr).toBe(0);
    const version = readFileSync(join(kit, "VERSION"), "utf8").split(" ")[0];
    expect(run.stdout.trim()).toContain(version);
  });

  it("runs every step of device-check.sh from the kit: server on PGlite, agent joined, GPUs, a job and metrics stored", async () => {
    const out = join(dir, "out-gpu");
    const { run, report, serverLog } = await deviceCheck(host, out, [smi]);
    expect(run.status, `${run.stderr}\n${report}`).toBe(0);
    expect(report).toContain(`from: device kit ${host}`);
    expect(report).toContain("health GPU 7: healthy");

    // The bundled server, started from the kit, on its embedded database, serving the kit's prebuilt agent.
    expect(report).toMatch(
      new RegExp(`server ${host}/server/gpuplane-server.mjs answered /healthz in \\d+ s: .*"database":"pglite"`),
    );
    const [, sha] = /sha256 ([0-9a-f]{64})/.exec(readFileSync(join(host, "VERSION"), "utf8"))!;
    expect(report).toMatch(new RegExp(`agent it serves: \\{"version":"[^"]+","sha256":"${sha}"`));
    expect(serverLog).not.toMatch(/ERR_MODULE_NOT_FOUND|Cannot find (module|package)|"level":50/);

    // The agent joined and the server stored the host's eight fake H100s.
    const node = jsonAfter(report, "node ").data;
    expect(node).toMatchObject({ status: "active", total_gpus: 8 });
    const gpus = jsonAfter(report, "=== metrics the agent reported (server side) ===").data;
    expect(gpus.map((g: any) => g.uuid).sort()).toEqual(
      Array.from({ length: 8 }, (_, i) => `GPU-7b264f23-a301-88a1-beb5-74619471dd0${i}`),
    );
    for (const gpu of gpus) {
      expect(gpu).toMatchObject({ model: "NVIDIA H100 80GB HBM3", vram_mb: 81559, health: "healthy" });
      expect(gpu.latest_metrics).not.toBeNull();
    }

    // The job ran on the host through the agent, and each GPU's metrics history holds what the agent reported.
    expect(report).toContain("workload: nvidia-smi only");
    expect(report).toContain("job status: completed");
    const job = jsonAfter(report, "job status: completed").data;
    expect(job.output_tail).toContain("CUDA_VISIBLE_DEVICES=0");
    // (the check prints each history's first 3000 bytes: matched, not parsed)
    for (const gpu of gpus) {
      const history = report.split(`GPU id ${gpu.id}:\n`)[1]?.split("\n")[0];
      expect(history).toMatch(/"points":\[\{"ts":"[^"]+","samples":[1-9]\d*,.*"memory_total_mb":81559/);
    }

    expect(report).toMatch(/container checks skipped|GPUs seen inside: \d/);
    expect(report).toContain("agent exit code 0");
  }, 150_000);

  it.skipIf(existsSync("/usr/bin/nvidia-smi"))(
    "on a host without nvidia-smi, starts the server and says the steps that need a GPU are skipped",
    async () => {
      const out = join(dir, "out-nogpu");
      const { run, report } = await deviceCheck(host, out, []);
      expect(run.status, `${run.stderr}\n${report}`).toBe(0);
      expect(report).toContain("nvidia-smi not found: not a GPU host");
      expect(report).toContain("nvidia_smi_error=nvidia-smi not found on PATH");
      expect(report).toMatch(/answered \/healthz in \d+ s: .*"database":"pglite"/);
      expect(report).toContain(
        "no GPU: the agent joins only where nvidia-smi answers; join, CUDA job, metrics and containers skipped",
      );
      expect(report).not.toContain("=== agent joined ===");
    },
    150_000,
  );
});
