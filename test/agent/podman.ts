import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const TEST_IMAGE = "localhost/gpuplane/test-sshd:latest";

/**
 * Podman on these machines (no systemd, hybrid cgroups, no CAP_SYS_RESOURCE) needs runc and lowered ulimits. CI's
 * .ci/run writes this file and exports CONTAINERS_CONF; a developer's run gets the same one written here.
 */
export function podmanEnv(): NodeJS.ProcessEnv {
  if (process.env.CONTAINERS_CONF) return process.env;
  const file = join(tmpdir(), "gpuplane-containers.conf");
  if (!existsSync(file)) {
    mkdirSync(tmpdir(), { recursive: true });
    writeFileSync(
      file,
      '[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n[engine]\nruntime = "runc"\n',
    );
  }
  return { ...process.env, CONTAINERS_CONF: file };
}

/** True when podman works here and the test image exists (built by the project's script if missing); else why not. */
export function podmanReady(): true | string {
  const version = spawnSync("podman", ["version", "--format", "{{.Client.Version}}"], { env: podmanEnv() });
  if (version.error || version.status !== 0) return "podman is not installed or not working here";
  if (spawnSync("ssh", ["-V"]).error) return "no ssh client here";
  const script = resolve(import.meta.dirname, "../../scripts/build-test-image.sh");
  const built = spawnSync(script, ["podman"], { env: podmanEnv(), encoding: "utf8", timeout: 180_000 });
  if (built.status !== 0) return `scripts/build-test-image.sh failed: ${built.stderr.slice(-500)}`;
  return true;
}

/**
 * True when a Docker engine answers, can take `--gpus` (dockerd started with the NVIDIA hook, here the fake one, on
 * its PATH, as scripts/start-test-docker.sh starts it) and has the test image (built if missing); else why not.
 */
export function dockerReady(): true | string {
  const info = spawnSync("docker", ["info", "--format", "{{.ServerVersion}}"], { encoding: "utf8" });
  if (info.error || info.status !== 0 || !info.stdout.trim())
    return "no Docker engine answers here (start one with scripts/start-test-docker.sh)";
  if (spawnSync("ssh", ["-V"]).error) return "no ssh client here";
  const script = resolve(import.meta.dirname, "../../scripts/build-test-image.sh");
  const built = spawnSync(script, ["docker"], { encoding: "utf8", timeout: 180_000 });
  if (built.status !== 0) return `scripts/build-test-image.sh docker failed: ${built.stderr.slice(-500)}`;
  const probe = spawnSync("docker", ["run", "--rm", "--gpus", "device=gpuplane-probe", TEST_IMAGE, "true"], {
    encoding: "utf8",
    timeout: 60_000,
  });
  if (/could not select device driver/.test(probe.stderr))
    return (
      "dockerd has no GPU driver for --gpus (no nvidia-container-runtime-hook on its PATH): restart it with " +
      "scripts/start-test-docker.sh, which puts the fake hook there"
    );
  // With the hook there, the probe's made-up GPU is refused by name; any other failure means Docker cannot run here.
  if (probe.status !== 0 && !probe.stderr.includes("gpuplane-probe"))
    return `docker cannot run a container here: ${(probe.stderr || String(probe.error)).slice(-300)}`;
  return true;
}
