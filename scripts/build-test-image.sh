#!/usr/bin/env bash
# Builds the small image the container tests and the benchmark use, from Debian packages only (no registry needed):
# busybox-static (a shell and coreutils) + dropbear (an SSH server) and the shared libraries they need, unpacked with
# `apt-get download` + `dpkg -x` and turned into an image with `podman import`. Takes seconds, where an mmdebstrap
# rootfs with openssh-server takes minutes. Skips the build when the image already exists.
#   usage: scripts/build-test-image.sh [podman|docker]
set -euo pipefail
RUNTIME="${1:-podman}"
TAG="${GPUPLANE_TEST_IMAGE:-localhost/gpuplane/test-sshd:latest}"
if "$RUNTIME" image exists "$TAG" 2>/dev/null || "$RUNTIME" image inspect "$TAG" >/dev/null 2>&1; then
  echo "$TAG exists: nothing to build"
  exit 0
fi
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
# The libraries are the ones `ldd /usr/sbin/dropbear` names on Debian 12 (libtomcrypt pulls in libgmp).
PACKAGES=(busybox-static dropbear-bin libc6 libcrypt1 zlib1g libtomcrypt1 libtommath1 libgmp10)
# apt-get download runs as the _apt user when it can: give it a folder it may write.
chmod 0777 "$WORK"
apt-get download "${PACKAGES[@]}" >/dev/null 2>&1 || { apt-get update -qq && apt-get download "${PACKAGES[@]}"; }
mkdir rootfs
for deb in ./*.deb; do dpkg -x "$deb" rootfs; done
cd rootfs
rm -rf usr/share/doc usr/share/man usr/share/lintian usr/share/locale
# Debian 12 is merged-/usr: /bin, /lib, /lib64 are links into /usr (busybox-static still ships /bin/busybox).
mkdir -p usr/bin && mv bin/busybox usr/bin/busybox && rmdir bin
for d in lib lib64 bin sbin; do [ -e "usr/$d" ] && [ ! -e "$d" ] && ln -s "usr/$d" "$d"; done
mkdir -p usr/bin usr/sbin etc/dropbear root/.ssh tmp var/run run dev proc sys data
chmod 0700 root root/.ssh
chmod 1777 tmp
# busybox's applets as links, not overwriting what the packages installed.
for applet in $(./usr/bin/busybox --list); do
  [ -e "usr/bin/$applet" ] || [ -e "usr/sbin/$applet" ] || ln -s busybox "usr/bin/$applet"
done
cat >etc/passwd <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >etc/group <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
printf '/bin/sh\n/bin/ash\n' >etc/shells
echo 'gpuplane-test-sshd' >etc/hostname
tar -C . -cf ../rootfs.tar .
cd ..
"$RUNTIME" import --change 'CMD ["/bin/sh"]' rootfs.tar "$TAG" >/dev/null
echo "built $TAG ($(du -h rootfs.tar | cut -f1) rootfs from ${PACKAGES[*]})"
