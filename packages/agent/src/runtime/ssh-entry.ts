/**
 * The command an instance container runs: the tenant's keys (mounted read-only from the agent's state dir) become
 * root's authorized_keys, the container's environment (CDI's GPU variables included) is kept for login shells, and an
 * SSH server runs in the foreground on port 22: the image's OpenSSH, else its dropbear, else OpenSSH installed with
 * the image's package manager (as dstack's shim does). An image with none of these fails with a message saying so.
 */
export const SSH_KEYS_MOUNT = "/run/gpuplane/authorized_keys";

export const ENV_MOUNT = "/run/gpuplane/env.sh";

const script = `set -e
[ -f ${ENV_MOUNT} ] && . ${ENV_MOUNT}
mkdir -p /root/.ssh
cp ${SSH_KEYS_MOUNT} /root/.ssh/authorized_keys
chmod 700 /root /root/.ssh
chmod 600 /root/.ssh/authorized_keys
mkdir -p /etc/profile.d
export -p | grep -v -e ' HOME=' -e ' PWD=' -e ' SHLVL=' -e ' HOSTNAME=' > /etc/profile.d/gpuplane-env.sh || true
[ -f /etc/profile ] || echo 'for f in /etc/profile.d/*.sh; do . "$f"; done' > /etc/profile
if [ ! -x /usr/sbin/sshd ] && ! command -v dropbear >/dev/null 2>&1; then
  echo "gpuplane: the image has no SSH server: installing openssh-server" >&2
  if command -v apt-get >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server >/dev/null
  elif command -v dnf >/dev/null 2>&1; then dnf install -y -q openssh-server
  elif command -v apk >/dev/null 2>&1; then apk add --no-cache openssh-server
  else echo "gpuplane: the image has no SSH server (sshd or dropbear) and no package manager to install one" >&2; exit 1
  fi
fi
# The customer's start command (the script's own arguments) runs beside SSH; its output is the container's log.
if [ "$#" -gt 0 ]; then "$@" & fi
if [ -x /usr/sbin/sshd ]; then
  mkdir -p /run/sshd && chmod 0755 /run/sshd
  ssh-keygen -A >/dev/null
  exec /usr/sbin/sshd -D -e -p 22 -o PermitRootLogin=prohibit-password -o PasswordAuthentication=no
fi
mkdir -p /etc/dropbear
exec dropbear -F -E -R -s -p 22`;

export const sshEntry = { entrypoint: "/bin/sh", command: ["-c", script] };

/** The entry with a start command: passed as the script's arguments, so no quoting is needed. */
export const sshEntryWith = (command: string[] | null | undefined) => ({
  entrypoint: "/bin/sh",
  command: command?.length ? ["-c", script, "gpuplane-entry", ...command] : ["-c", script],
});
