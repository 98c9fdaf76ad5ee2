#!/usr/bin/env bash
# Checks the node agent on a real GPU host, end to end, and writes what it saw to $OUT/device-report.txt:
#   1. `gpuplane-agent --once --dry-run` with the real nvidia-smi (GPUs found, health verdicts, metrics it would send);
#   2. a local gpuplane server (PGlite in a temp dir, workers on, simulator off) and the agent joined to it;
#   3. a job that runs a real CUDA workload (torch matmul if python3+torch are there, else a CUDA sample built with
#      nvcc if present, else nvidia-smi itself) as a bare process (--runtime none), with the GPU metrics reported;
#   4. containers (when podman is installed): the CDI spec from nvidia-ctk (generated under /var/run/cdi for the run
#      if none exists, removed after), an instance launched through the customer API and reached by SSH, where
#      `nvidia-smi -L` must list exactly its allocated GPU, and a 2-GPU job whose `nvidia-smi -L` must list exactly
#      its two. No registry is needed: the image is GPUPLANE_DEVICE_IMAGE or the local test image
#      (scripts/build-test-image.sh); NVIDIA's CDI spec brings nvidia-smi and the driver libraries into it.
# It only reads the GPUs (nvidia-smi queries); it never changes a setting, and needs no network beyond 127.0.0.1.
# Without nvidia-smi (no GPU), it runs step 1 and starts the server, then says the rest is skipped (the agent joins only
# where nvidia-smi answers); without podman, ssh or a CDI spec (or nvidia-ctk to make one), step 4 says so and is skipped.
#   usage: OUT=/tmp/out scripts/device-check.sh
#   GPUPLANE_DEVICE_WORKLOAD=torch|nvcc|nvidia-smi picks step 3's workload instead of the first one available.
# It runs from a checkout with node_modules (npm ci), or from the device kit (`npm run build:device-kit`): this script
# beside the single-file agent and the bundled server (server/), where it needs only `node` (20 or newer).
set -uo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
if [ -f "$HERE/server/gpuplane-server.mjs" ]; then
  FROM="device kit $HERE ($(cat "$HERE/VERSION" 2>/dev/null))"
  AGENT="$HERE/gpuplane-agent.mjs"
  GPUPLANE="$HERE/server/gpuplane-server.mjs"
  SCRIPTS="$HERE"
else
  CHECKOUT="$(cd "$HERE/.." && pwd)"
  cd "$CHECKOUT"
  FROM="checkout $CHECKOUT"
  AGENT="$CHECKOUT/packages/agent/bin/gpuplane-agent.mjs"
  GPUPLANE="$CHECKOUT/bin/gpuplane.mjs"
  SCRIPTS="$CHECKOUT/scripts"
fi
OUT="${OUT:-$(mktemp -d)}"
mkdir -p "$OUT"
REPORT="$OUT/device-report.txt"
WORK="$(mktemp -d)"
PORT="${PORT:-18080}"
KEY="gpk_devicecheck$(node -e 'process.stdout.write(require("crypto").randomBytes(24).toString("hex"))')"
SERVER="http://127.0.0.1:$PORT"
: >"$REPORT"
say() { printf '%s\n' "$*" | tee -a "$REPORT"; }
section() { say ""; say "=== $* ==="; }
api() { # api METHOD PATH [JSON] -> response body on stdout
  node -e '
    const [m, p, b] = process.argv.slice(1);
    fetch(process.env.SERVER + p, { method: m, headers: { "x-api-key": process.env.KEY, "content-type": "application/json" }, body: b || undefined })
      .then(async (r) => { process.stdout.write(await r.text()); if (!r.ok) process.exitCode = 1; })
      .catch((e) => { process.stderr.write(String(e)); process.exitCode = 2; });' "$@"
}
field() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{let v=JSON.parse(s);for(const k of process.argv[1].split("."))v=v?.[k];process.stdout.write(typeof v==="object"?JSON.stringify(v):String(v))})' "$1"; }
export SERVER KEY
cleanup() {
  [ -n "${AGENT_PID:-}" ] && kill -TERM "$AGENT_PID" 2>/dev/null && wait "$AGENT_PID" 2>/dev/null
  [ -n "${SERVER_PID:-}" ] && kill -TERM "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  cp "$WORK"/*.log "$OUT"/ 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

section "host"
say "date: $(date -u +%FT%TZ)  node: $(node --version)  kernel: $(uname -r)"
say "from: $FROM"
if command -v nvidia-smi >/dev/null; then
  GPU_HOST=1
  nvidia-smi -L | tee -a "$REPORT"
else
  GPU_HOST=
  say "nvidia-smi not found: not a GPU host; the agent's dry run and the server start are checked, the rest is skipped"
fi

section "agent --once --dry-run (real nvidia-smi)"
node "$AGENT" --once --dry-run --state-dir "$WORK/dry" >"$WORK/dry-run.json" 2>>"$REPORT"
node -e '
  const d = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`host ${d.host.hostname} ${d.host.ipAddress} cpus=${d.host.cpuCores} ram=${d.host.ramGb}GB nvidia_smi_error=${d.nvidia_smi_error}`);
  for (const g of d.gpus) console.log(`GPU ${g.index} ${g.uuid} ${g.name} bus=${g.busId} driver=${g.driverVersion} vram=${g.memoryTotalMb}MiB util=${g.utilizationPct}% temp=${g.temperatureC}C power=${g.powerDrawW}W ecc_uncorr=${g.eccUncorrectedVolatile} retired_pending=${g.retiredPagesPending} remap_failure=${g.remappedRowsFailure} throttle=[${g.throttle}]`);
  for (const h of d.would_send_heartbeat.gpus) console.log(`health GPU ${h.index}: ${h.health}${h.reason ? " (" + h.reason + ")" : ""}`);' "$WORK/dry-run.json" | tee -a "$REPORT"

section "server"
PORT=$PORT HOST=127.0.0.1 GPUPLANE_DATA_DIR="$WORK/data" GPUPLANE_ADMIN_KEY="$KEY" GPUPLANE_SIMULATOR=off \
  GPUPLANE_SCHEDULER_INTERVAL_S=2 GPUPLANE_NODE_GRACE_S=30 LOG_LEVEL=warn \
  node "$GPUPLANE" serve >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
STARTED=$(date +%s)
for _ in $(seq 1 90); do
  HEALTH=$(api GET /healthz 2>/dev/null) && break
  kill -0 "$SERVER_PID" 2>/dev/null || break
  sleep 1
done
if [ -z "${HEALTH:-}" ]; then
  say "the server did not start: $(tail -c 2000 "$WORK/server.log")"
  exit 1
fi
say "server $GPUPLANE answered /healthz in $(($(date +%s) - STARTED)) s: $HEALTH"
say "agent it serves: $(api GET /agent/version)"
if [ -z "$GPU_HOST" ]; then
  say "no GPU: the agent joins only where nvidia-smi answers; join, CUDA job, metrics and containers skipped"
  exit 0
fi
CLUSTER=$(api POST /api/v1/clusters '{"name":"device-check","region":"local"}' | field data.id)
TOKEN=$(api POST "/api/v1/clusters/$CLUSTER/join-tokens" '{}' | field data.token)
say "cluster $CLUSTER, join token issued: ${TOKEN:0:8}…"

section "agent joined"
node "$AGENT" --server "$SERVER" --token "$TOKEN" --state-dir "$WORK/state" \
  --interval 2 --wait 10 --runtime none >"$WORK/agent.log" 2>&1 &
AGENT_PID=$!
for _ in $(seq 1 30); do [ -f "$WORK/state/credentials.json" ] && break; sleep 1; done
if [ ! -f "$WORK/state/credentials.json" ]; then
  say "the agent did not join: $(tail -c 2000 "$WORK/agent.log")"
  exit 1
fi
NODE=$(field nodeId <"$WORK/state/credentials.json")
say "node $NODE"
api GET "/api/v1/nodes/$NODE" | tee -a "$REPORT"; say ""
api GET "/api/v1/gpus?node_id=$NODE" | tee -a "$REPORT"; say ""

section "job with a CUDA workload"
cuda_job() {
  local pick="${GPUPLANE_DEVICE_WORKLOAD:-}"
  if [ -z "$pick" ]; then
    if python3 -c 'import torch,sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then pick=torch
    elif command -v nvcc >/dev/null; then pick=nvcc
    else pick=nvidia-smi; fi
  fi
  # The fallback: no CUDA code of its own, the job sees its GPU through nvidia-smi.
  WORKLOAD='echo CUDA_VISIBLE_DEVICES=$CUDA_VISIBLE_DEVICES; nvidia-smi --query-gpu=index,uuid,name --format=csv; sleep 10'
  KIND="nvidia-smi only"
  if [ "$pick" = torch ]; then
    cat >"$WORK/matmul.py" <<'PY'
import os, time, torch
print("CUDA_VISIBLE_DEVICES=" + os.environ.get("CUDA_VISIBLE_DEVICES", ""), torch.cuda.get_device_name(0), flush=True)
a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
start, n = time.time(), 0
while time.time() - start < 20:
    a @ a
    n += 1
torch.cuda.synchronize()
print("matmuls", n, "approx TFLOPS", round(n * 2 * 8192**3 / (time.time() - start) / 1e12, 1))
PY
    WORKLOAD="python3 $WORK/matmul.py"
    KIND="torch bf16 matmul, 20 s"
  elif [ "$pick" = nvcc ]; then
    cat >"$WORK/spin.cu" <<'CU'
#include <cstdio>
__global__ void spin(float *x, int n) { int i = blockIdx.x * blockDim.x + threadIdx.x; if (i < n) for (int k = 0; k < 200000; k++) x[i] = x[i] * 0.999f + 0.001f; }
int main() { int n = 1 << 24; float *x; cudaMalloc(&x, n * sizeof(float)); for (int r = 0; r < 20; r++) spin<<<n / 256, 256>>>(x, n); cudaError_t e = cudaDeviceSynchronize(); printf("spin done: %s\n", cudaGetErrorString(e)); return e != cudaSuccess; }
CU
    if nvcc -o "$WORK/spin" "$WORK/spin.cu" >"$WORK/nvcc.log" 2>&1; then
      WORKLOAD="echo CUDA_VISIBLE_DEVICES=\$CUDA_VISIBLE_DEVICES; $WORK/spin"
      KIND="nvcc-built spin kernel"
    else
      say "nvcc could not build the spin kernel: $(tail -c 500 "$WORK/nvcc.log")"
    fi
  fi
  say "workload: $KIND"
  BODY=$(node -e 'console.log(JSON.stringify({cluster_id:Number(process.argv[1]),name:"device-check",gpu_count:1,command:process.argv[2]}))' "$CLUSTER" "$WORKLOAD")
  JOB=$(api POST /api/v1/jobs "$BODY" | field data.id)
  say "job $JOB submitted"
  for _ in $(seq 1 90); do
    STATUS=$(api GET "/api/v1/jobs/$JOB" | field data.status)
    nvidia-smi --query-gpu=index,utilization.gpu,memory.used,temperature.gpu,power.draw,clocks_event_reasons.active --format=csv,noheader >>"$WORK/nvidia-smi-during-job.log" 2>&1
    case "$STATUS" in completed|failed|cancelled) break ;; esac
    sleep 1
  done
  say "job status: $STATUS"
  api GET "/api/v1/jobs/$JOB" | tee -a "$REPORT"; say ""
}
cuda_job

section "metrics the agent reported (server side)"
api GET "/api/v1/gpus?node_id=$NODE" | tee -a "$REPORT"; say ""
for GPU_ID in $(node -e 'console.log(Object.values(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).gpuIds).join(" "))' "$WORK/state/credentials.json"); do
  say "GPU id $GPU_ID:"; api GET "/api/v1/gpus/$GPU_ID/metrics" | head -c 3000 | tee -a "$REPORT"; say ""
done
section "nvidia-smi while the job ran (max utilization per GPU)"
sort -t, -k2 -n -r "$WORK/nvidia-smi-during-job.log" | head -8 | tee -a "$REPORT"

section "drain"
kill -TERM "$AGENT_PID"; wait "$AGENT_PID"; say "agent exit code $?"; AGENT_PID=
tail -20 "$WORK/agent.log" | tee -a "$REPORT"

section "containers: podman + CDI"
container_checks() {
  command -v podman >/dev/null || { say "podman not installed: container checks skipped"; return; }
  command -v ssh >/dev/null || { say "no ssh client: container checks skipped"; return; }
  if ! grep -qs 'nvidia.com/gpu' /etc/cdi/* /var/run/cdi/*; then
    command -v nvidia-ctk >/dev/null || { say "no CDI spec and no nvidia-ctk: container checks skipped"; return; }
    mkdir -p /var/run/cdi
    nvidia-ctk cdi generate --output=/var/run/cdi/gpuplane-device-check.yaml >>"$WORK/cdi.log" 2>&1 \
      && CDI_MADE=/var/run/cdi/gpuplane-device-check.yaml
  fi
  nvidia-ctk cdi list 2>/dev/null | tee -a "$REPORT"
  IMAGE="${GPUPLANE_DEVICE_IMAGE:-localhost/gpuplane/test-sshd:latest}"
  podman image exists "$IMAGE" || "$SCRIPTS/build-test-image.sh" podman >>"$REPORT" 2>&1 \
    || { say "no image $IMAGE and it could not be built (no network?): container checks skipped"; return; }
  api PATCH /api/v1/images/ubuntu-22.04-cuda-12.4-cluster "{\"oci_ref\":\"$IMAGE\"}" >/dev/null
  node "$AGENT" --state-dir "$WORK/state" --interval 2 --wait 10 --runtime podman \
    --ip 127.0.0.1 --publish-ip 127.0.0.1 --ssh-ports 22000-22099 --image "$IMAGE" --job-image "$IMAGE" \
    --name-prefix gpdc >"$WORK/agent-containers.log" 2>&1 &
  AGENT_PID=$!
  sleep 3
  grep -E "container runtime|WARNING" "$WORK/agent-containers.log" | tee -a "$REPORT"
  # A customer with credit, a quota and an SSH key; the cheapest 1-GPU offer here.
  local reg tenant tkey offer ikey iid port
  reg=$(api POST /api/v1/auth/register '{"email":"device-check@example.com","password":"correct horse battery"}')
  tenant=$(printf '%s' "$reg" | field data.tenant.id); tkey=$(printf '%s' "$reg" | field data.api_key.key)
  api POST "/api/v1/tenants/$tenant/credits" '{"amount_usd":"1000"}' >/dev/null
  api PATCH "/api/v1/tenants/$tenant" '{"gpu_quota":8}' >/dev/null
  ssh-keygen -q -t ed25519 -N "" -f "$WORK/id"
  ikey=$(KEY=$tkey api POST /api/v1/ssh-keys "$(node -e 'console.log(JSON.stringify({name:"dc",public_key:require("fs").readFileSync(process.argv[1],"utf8").trim()}))' "$WORK/id.pub")" | field data.id)
  offer=$(KEY=$tkey api GET "/api/v1/gpus/available?region=local" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const o=JSON.parse(s).data.find(x=>x.gpu_count===1&&x.regions.some(r=>r.available_count>0));process.stdout.write(o?o.cluster_type:"")})')
  [ -n "$offer" ] || { say "no 1-GPU offer in region local"; return; }
  iid=$(KEY=$tkey api POST /api/v1/deployments/clusters "{\"cluster_type\":\"$offer\",\"image\":\"ubuntu-22.04-cuda-12.4-cluster\",\"hostname\":\"dc\",\"ssh_key_ids\":[\"$ikey\"],\"location\":\"local\"}" | field data.id)
  say "instance $iid ($offer)"
  for _ in $(seq 1 60); do
    D=$(KEY=$tkey api GET "/api/v1/deployments/$iid"); S=$(printf '%s' "$D" | field data.status)
    case "$S" in running|failed) break ;; esac; sleep 1
  done
  say "instance status: $S $(printf '%s' "$D" | field data.status_reason) $(printf '%s' "$D" | field data.ssh_command)"
  if [ "$S" = running ]; then
    port=$(printf '%s' "$D" | field data.ssh_command | sed -E 's/.*-p ([0-9]+).*/\1/')
    ssh -i "$WORK/id" -p "$port" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
      root@127.0.0.1 'nvidia-smi -L; ls /dev | grep -E "^nvidia[0-9]+$"' 2>&1 | tee "$WORK/instance-gpus.txt" | tee -a "$REPORT"
    say "GPUs seen inside: $(grep -c '^GPU ' "$WORK/instance-gpus.txt") (expected 1)"
  fi
  KEY=$tkey api DELETE "/api/v1/deployments/$iid" >/dev/null
  if [ "$(nvidia-smi -L | wc -l)" -ge 2 ]; then
    local job
    job=$(api POST /api/v1/jobs "{\"cluster_id\":$CLUSTER,\"name\":\"dc-containers\",\"gpu_count\":2,\"image\":\"$IMAGE\",\"command\":\"nvidia-smi -L\"}" | field data.id)
    for _ in $(seq 1 60); do
      J=$(api GET "/api/v1/jobs/$job"); case "$(printf '%s' "$J" | field data.status)" in completed|failed) break ;; esac; sleep 1
    done
    say "job $job: $(printf '%s' "$J" | field data.status), GPU indices $(printf '%s' "$J" | field data.gpu_indices)"
    printf '%s' "$J" | field data.output_tail | tee -a "$REPORT"
    say "host's view of those GPUs:"; nvidia-smi -L | tee -a "$REPORT"
  fi
  kill -TERM "$AGENT_PID"; wait "$AGENT_PID"; AGENT_PID=
  podman ps -a -q --filter label=gpuplane.agent=gpdc | xargs -r podman rm -f -t 0 >/dev/null
}
container_checks
[ -n "${CDI_MADE:-}" ] && rm -f "$CDI_MADE"
say ""; say "report: $REPORT"
