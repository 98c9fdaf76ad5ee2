#!/usr/bin/env bash
# Starts Debian's Docker engine (docker.io) for the container tests on a machine without systemd: dockerd in the
# background with a storage driver that works here (overlay2, else vfs), its own data root, logs in /tmp. Returns 0
# when `docker info` answers; otherwise warns and returns 1 (the Docker half of the container tests is then skipped).
#   usage: scripts/start-test-docker.sh
set -uo pipefail
DOCKERD="$(command -v dockerd || echo /usr/sbin/dockerd)"
DOCKER=/usr/bin/docker
[ -x "$DOCKER" ] || DOCKER="$(command -v docker || true)"
if [ ! -x "$DOCKERD" ] || [ -z "$DOCKER" ]; then
  echo "warning: dockerd is not installed (apt-get install docker.io): the Docker container tests are skipped"
  exit 1
fi
if "$DOCKER" info >/dev/null 2>&1; then exit 0; fi
# The fake NVIDIA hook (packages/agent/test/fake-nvidia-hook) last on dockerd's PATH: dockerd registers its `--gpus`
# driver only when nvidia-container-runtime-hook is on its PATH; a real NVIDIA Container Toolkit's hook comes first.
HOOKS="$(cd "$(dirname "$0")/.." && pwd)/packages/agent/test/fake-nvidia-hook"
for driver in overlay2 vfs; do
  # iptables=true: Docker's own NAT for published ports; the agent's GPUPLANE-* chains sit above it.
  PATH="$PATH:$HOOKS" nohup "$DOCKERD" ${GPUPLANE_DOCKERD_ARGS:-} --storage-driver "$driver" --data-root /var/lib/docker-gpuplane-test \
    --exec-root /var/run/docker-gpuplane-test --pidfile /var/run/docker-gpuplane-test.pid \
    >"/tmp/dockerd-$driver.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 60); do
    if "$DOCKER" info >/dev/null 2>&1; then
      echo "dockerd started (pid $pid, storage driver $driver)"
      exit 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  kill "$pid" 2>/dev/null
  echo "dockerd did not start with $driver: $(tail -3 "/tmp/dockerd-$driver.log" | tr '\n' ' ')"
done
echo "warning: could not start dockerd here: the Docker container tests are skipped"
exit 1
