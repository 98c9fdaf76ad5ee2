#!/bin/sh
# Installs the gpuplane node agent on a GPU host and starts it as a service. The gpuplane server serves this file at
# /agent/install.sh with its own address filled in; the console and the API print the line that runs it:
#
#   curl -fsSL https://gpus.example.com/agent/install.sh | sudo sh -s -- --token gpj_…
#
# It checks Node (>= 20), the container runtime, the NVIDIA Container Toolkit and the CDI spec (warnings only: the
# agent starts anyway and says what fails), downloads the agent (one file) and verifies its sha256 against the
# server's /agent/version, writes /etc/gpuplane-agent/agent.env and a systemd unit (restart on failure, started at
# boot, logs in journald), and starts it. Without systemd it runs the agent under a small supervisor (run.sh) with
# nohup and says so. Running it again is harmless: it keeps the node's credential and restarts into the current file.
#
# options:
#   --token gpj_…      join token (needed the first time; later runs use the stored node credential)
#   --server URL       the gpuplane server (default: __GPUPLANE_SERVER__)
#   --root DIR         install under DIR instead of / (images, tests); never touches systemd; the unit names DIR's paths
#   --no-systemd       run under run.sh even where systemd is present
#   --no-start         install only
#   -- FLAG…           passed to the agent, e.g. -- --runtime docker --ssh-ports 30000-30999 (gpuplane-agent --help)
# environment: GPUPLANE_NODE=/path/to/node (default: node on PATH)
set -eu

SERVER="__GPUPLANE_SERVER__"
TOKEN=""
ROOT=""
SYSTEMD=auto
START=1
AGENT_ARGS=""

say() { printf 'gpuplane-agent install: %s\n' "$*" >&2; }
warn() { printf 'gpuplane-agent install: WARNING: %s\n' "$*" >&2; }
die() {
  printf 'gpuplane-agent install: ERROR: %s\n' "$*" >&2
  exit 1
}

while [ $# -gt 0 ]; do
  case "$1" in
    --token) [ $# -ge 2 ] || die "--token needs a value"; TOKEN="$2"; shift 2 ;;
    --token=*) TOKEN="${1#*=}"; shift ;;
    --server) [ $# -ge 2 ] || die "--server needs a value"; SERVER="$2"; shift 2 ;;
    --server=*) SERVER="${1#*=}"; shift ;;
    --root) [ $# -ge 2 ] || die "--root needs a value"; ROOT="$2"; shift 2 ;;
    --no-systemd) SYSTEMD=no; shift ;;
    --no-start) START=0; shift ;;
    --) shift; AGENT_ARGS="$*"; break ;;
    -h | --help) sed -n '2,22p' "$0" 2>/dev/null || true; exit 0 ;;
    *) die "unknown option $1 (agent flags go after --, e.g. -- --runtime docker)" ;;
  esac
done
SERVER="${SERVER%/}"
case "$SERVER" in http://* | https://*) ;; *) die "--server must be an http(s) URL, not '$SERVER'" ;; esac
case "$TOKEN" in "" | gpj_*) ;; *) die "--token must be a join token (gpj_…), from the console's Fleet page or POST /api/v1/clusters/{id}/join-tokens" ;; esac
case "$AGENT_ARGS" in *"'"* | *'"'* | *'\'* | *'$'* | *'`'*) die "agent flags may not contain quotes, \$, \` or backslashes" ;; esac
if [ -n "$ROOT" ]; then
  mkdir -p "$ROOT"
  ROOT="$(cd "$ROOT" && pwd)"
elif [ "$(id -u)" != 0 ]; then
  die "run as root: curl -fsSL $SERVER/agent/install.sh | sudo sh -s -- --token …"
fi

PREFIX="$ROOT/opt/gpuplane-agent"
AGENT="$PREFIX/gpuplane-agent.mjs"
RUNNER="$PREFIX/run.sh"
ETC="$ROOT/etc/gpuplane-agent"
ENV_FILE="$ETC/agent.env"
STATE="$ROOT/var/lib/gpuplane-agent"
UNIT="$ROOT/etc/systemd/system/gpuplane-agent.service"
LOG="$ROOT/var/log/gpuplane-agent.log"
PID_FILE="$STATE/run.pid"

# The value of an agent flag given after -- (e.g. --runtime), or the default.
agent_flag() {
  set -- $AGENT_ARGS
  found=""
  while [ $# -gt 0 ]; do
    case "$1" in
      "$FLAG") found="${2:-}"; shift ;;
      "$FLAG"=*) found="${1#*=}" ;;
    esac
    shift
  done
  printf '%s' "$found"
}

# --- Node -----------------------------------------------------------------------------------------------------------
NODE="${GPUPLANE_NODE:-$(command -v node || true)}"
if [ -z "$NODE" ] || ! [ -x "$NODE" ]; then
  die "Node.js >= 20 is needed and was not found. Install it, then run this again:
    Debian/Ubuntu: curl -fsSL https://deb.nodesource.com/setup_22.x | sudo bash - && sudo apt-get install -y nodejs
    RHEL/Rocky/Fedora: sudo dnf module install -y nodejs:22 (or the NodeSource rpm)
    any Linux: a tarball from https://nodejs.org/en/download, then GPUPLANE_NODE=/path/to/bin/node sh install.sh …"
fi
if ! "$NODE" -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)'; then
  die "$NODE is Node $("$NODE" --version); the agent needs Node >= 20 (https://nodejs.org/en/download)"
fi
say "node: $NODE $("$NODE" --version)"

# --- what the agent will need (warnings: the agent runs anyway and reports what fails) --------------------------------
FLAG=--runtime
RUNTIME="$(agent_flag)"
RUNTIME="${RUNTIME:-podman}"
FLAG=--runtime-binary
RUNTIME_BIN="$(agent_flag)"
if [ "$RUNTIME" = none ]; then
  say "runtime: none (bare processes: this host takes work from one tenant at a time)"
elif command -v "${RUNTIME_BIN:-$RUNTIME}" >/dev/null 2>&1; then
  say "runtime: $RUNTIME ($(command -v "${RUNTIME_BIN:-$RUNTIME}"))"
else
  warn "$RUNTIME not found: every instance and job will fail until it is installed (Debian/Ubuntu: apt-get install podman runc, or docker.io with -- --runtime docker)"
fi
FLAG=--nvidia-smi
SMI="$(agent_flag)"
if command -v "${SMI:-nvidia-smi}" >/dev/null 2>&1; then
  say "nvidia-smi: $(command -v "${SMI:-nvidia-smi}")"
else
  warn "nvidia-smi not found: the NVIDIA driver is not installed; the node joins with no GPUs"
fi
if [ "$RUNTIME" != none ]; then
  if command -v nvidia-ctk >/dev/null 2>&1; then
    say "NVIDIA Container Toolkit: $(command -v nvidia-ctk)"
  else
    warn "nvidia-ctk not found: install the NVIDIA Container Toolkit (nvidia-container-toolkit) so containers get their GPUs"
  fi
  if [ "$RUNTIME" = podman ]; then
    if ls /etc/cdi/*.yaml /etc/cdi/*.json /var/run/cdi/*.yaml /var/run/cdi/*.json >/dev/null 2>&1; then
      say "CDI spec: $(ls /etc/cdi/*.yaml /etc/cdi/*.json /var/run/cdi/*.yaml /var/run/cdi/*.json 2>/dev/null | tr '\n' ' ')"
    else
      warn "no CDI spec in /etc/cdi or /var/run/cdi: run nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml (and after every driver upgrade)"
    fi
  elif [ "$RUNTIME" = docker ]; then
    say "docker takes GPUs through its NVIDIA runtime: nvidia-ctk runtime configure --runtime=docker, then restart docker"
  fi
fi

# --- the agent: one file, verified -------------------------------------------------------------------------------------
mkdir -p "$PREFIX" "$ETC" "$STATE" "$(dirname "$LOG")"
chmod 700 "$ETC" "$STATE"
"$NODE" - "$SERVER" "$AGENT" <<'JS' || die "could not install the agent from $SERVER"
const { createHash } = require("node:crypto");
const fs = require("node:fs");
const [server, target] = process.argv.slice(2);
const sha = (b) => createHash("sha256").update(b).digest("hex");
(async () => {
  const v = await fetch(`${server}/agent/version`);
  if (!v.ok) throw new Error(`GET ${server}/agent/version: HTTP ${v.status}`);
  const want = await v.json();
  if (fs.existsSync(target) && sha(fs.readFileSync(target)) === want.sha256) {
    console.error(`gpuplane-agent install: agent ${want.version} already installed (sha256 ${want.sha256})`);
    return;
  }
  const r = await fetch(`${server}/agent/gpuplane-agent.mjs`);
  if (!r.ok) throw new Error(`GET ${server}/agent/gpuplane-agent.mjs: HTTP ${r.status}`);
  const code = Buffer.from(await r.arrayBuffer());
  if (sha(code) !== want.sha256) throw new Error(`sha256 ${sha(code)} is not the ${want.sha256} the server announced`);
  fs.writeFileSync(`${target}.new`, code, { mode: 0o755 });
  fs.renameSync(`${target}.new`, target);
  console.error(`gpuplane-agent install: agent ${want.version} installed at ${target} (sha256 ${want.sha256} verified)`);
})().catch((e) => {
  console.error(`gpuplane-agent install: ERROR: ${e.message}`);
  process.exit(1);
});
JS
"$NODE" "$AGENT" --version >/dev/null || die "$AGENT does not start with $NODE"

# --- configuration: kept across runs (a run without --token keeps the stored one) ------------------------------------
OLD_TOKEN=""
[ -f "$ENV_FILE" ] && OLD_TOKEN="$(sed -n 's/^GPUPLANE_JOIN_TOKEN="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$ENV_FILE")"
TOKEN="${TOKEN:-$OLD_TOKEN}"
if [ -z "$TOKEN" ] && ! [ -f "$STATE/credentials.json" ]; then
  die "--token is needed to join (create one in the console, Fleet → Join token)"
fi
umask 077
cat >"$ENV_FILE.new" <<EOF
# gpuplane node agent (written by install.sh; run it again to change)
GPUPLANE_SERVER="$SERVER"
GPUPLANE_JOIN_TOKEN="$TOKEN"
GPUPLANE_AGENT_STATE_DIR="$STATE"
GPUPLANE_AGENT_ARGS="$AGENT_ARGS"
EOF
mv "$ENV_FILE.new" "$ENV_FILE"
umask 022

mkdir -p "$(dirname "$UNIT")"
cat >"$UNIT.new" <<EOF
# gpuplane node agent (written by install.sh from $SERVER)
[Unit]
Description=gpuplane node agent
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
EnvironmentFile=$ENV_FILE
ExecStart=$NODE $AGENT \$GPUPLANE_AGENT_ARGS
Restart=on-failure
RestartSec=2
# 75: the agent replaced its own file (an upgrade) and asks to be started again
RestartForceExitStatus=75
# only the agent is signalled: containers and jobs outlive it, and the next agent adopts them
KillMode=process
StandardOutput=journal
StandardError=journal
SyslogIdentifier=gpuplane-agent

[Install]
WantedBy=multi-user.target
EOF
mv "$UNIT.new" "$UNIT"

cat >"$RUNNER" <<EOF
#!/bin/sh
# Runs the gpuplane agent where there is no systemd, as the unit would: restarted when it fails or asks to restart
# (exit 75, after an upgrade); SIGTERM stops it (the agent finishes its work first). Written by install.sh.
set -a
. "$ENV_FILE"
set +a
echo \$\$ >"$PID_FILE"
child=""
trap '[ -n "\$child" ] && kill -TERM "\$child" 2>/dev/null; [ -n "\$child" ] && wait "\$child"; rm -f "$PID_FILE"; exit 0' TERM INT
while :; do
  "$NODE" "$AGENT" \$GPUPLANE_AGENT_ARGS &
  child=\$!
  rc=0
  wait "\$child" || rc=\$?
  [ "\$rc" = 0 ] && break
  if [ "\$rc" = 75 ]; then
    echo "\$(date -u +%FT%TZ) gpuplane-agent: restarting into the upgraded file" >&2
  else
    echo "\$(date -u +%FT%TZ) gpuplane-agent exited with \$rc: restarting in 2 s" >&2
    sleep 2
  fi
done
rm -f "$PID_FILE"
EOF
chmod 755 "$RUNNER"

# --- start ---------------------------------------------------------------------------------------------------------------
[ "$START" = 1 ] || { say "installed; not started (--no-start). Start: systemctl enable --now gpuplane-agent, or $RUNNER"; exit 0; }
if [ "$SYSTEMD" = auto ] && [ -z "$ROOT" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  systemctl daemon-reload
  systemctl enable gpuplane-agent.service >/dev/null 2>&1
  systemctl restart gpuplane-agent.service
  say "started: systemctl status gpuplane-agent; logs: journalctl -u gpuplane-agent -f"
  exit 0
fi
if [ -f "$PID_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
  OLD="$(cat "$PID_FILE")"
  say "stopping the running agent (supervisor pid $OLD) to start the installed file"
  kill -TERM "$OLD" 2>/dev/null || true
  i=0
  while kill -0 "$OLD" 2>/dev/null && [ $i -lt 60 ]; do sleep 1; i=$((i + 1)); done
fi
if command -v setsid >/dev/null 2>&1; then
  setsid nohup "$RUNNER" >>"$LOG" 2>&1 </dev/null &
else
  nohup "$RUNNER" >>"$LOG" 2>&1 </dev/null &
fi
i=0
while ! [ -f "$PID_FILE" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
say "no systemd here${ROOT:+ (--root)}: the agent runs under $RUNNER (pid $(cat "$PID_FILE" 2>/dev/null || echo '?')), logs in $LOG"
say "it is not started at boot: add '@reboot $RUNNER >>$LOG 2>&1' to root's crontab, or start it from your init system"
