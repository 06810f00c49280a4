#!/usr/bin/env bash
# Builds the emulator's Debian 12 VM image: a debootstrapped root holding what GCE's debian-12
# image ships and a start-up script relies on, plus a stand-in for Google's guest agent that runs
# the `startup-script` metadata on every boot. Also unpacks systemd-nspawn (from the same Debian
# release, next to the root, never installed on the host: the package would upgrade host systemd).
#
#   build.sh OUT_DIR
# Writes OUT_DIR/rootfs and OUT_DIR/nspawn, then OUT_DIR/READY last (the cache key lives in the
# directory name, chosen by the caller from a hash of this recipe).
set -euo pipefail
out=${1:?usage: build.sh OUT_DIR}
here=$(cd "$(dirname "$0")" && pwd)
mirror=${HA_DEBIAN_MIRROR:-http://deb.debian.org/debian}
[ "$(id -u)" -eq 0 ] || { echo "build.sh: needs root (debootstrap, chroot)" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "build.sh: debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }

rm -rf "$out.tmp"
mkdir -p "$out.tmp"
root="$out.tmp/rootfs"

# What GCE's debian-12 image has that the start-up script uses. No jq, no python3: the script must
# not need them.
packages=systemd,systemd-sysv,dbus,iproute2,iputils-ping,procps,curl,ca-certificates,e2fsprogs,util-linux,mount,tar,gzip,coreutils,openssl,less
echo "image: debootstrap bookworm ($mirror)"
debootstrap --variant=minbase --include="$packages" bookworm "$root" "$mirror" >"$out.tmp/debootstrap.log" 2>&1 \
  || { tail -n 30 "$out.tmp/debootstrap.log" >&2; exit 1; }

echo "image: systemd-nspawn from the root's own release"
chroot "$root" /bin/sh -c 'cd /tmp && apt-get download systemd-container >/dev/null' \
  || { echo "build.sh: apt-get download systemd-container failed" >&2; exit 1; }
mkdir -p "$out.tmp/nspawn"
dpkg -x "$root"/tmp/systemd-container_*.deb "$out.tmp/nspawn"
rm -f "$root"/tmp/systemd-container_*.deb
chroot "$root" apt-get clean

echo "image: guest files"
install -m 0755 "$here/files/google_metadata_script_runner" "$root/usr/bin/google_metadata_script_runner"
install -m 0644 "$here/files/google-startup-scripts.service" "$root/etc/systemd/system/google-startup-scripts.service"
ln -sf /etc/systemd/system/google-startup-scripts.service "$root/etc/systemd/system/multi-user.target.wants/google-startup-scripts.service"
# GCE resolves metadata.google.internal through its DNS; the emulated VPC has no DNS server.
cat >"$root/etc/hosts" <<'HOSTS'
127.0.0.1	localhost
::1	localhost ip6-localhost ip6-loopback
169.254.169.254	metadata.google.internal metadata
HOSTS
: >"$root/etc/resolv.conf"
# No login prompts on the console, no units that wait for hardware or a network manager.
for unit in getty@tty1.service console-getty.service systemd-networkd-wait-online.service apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer; do
  ln -sf /dev/null "$root/etc/systemd/system/$unit"
done
# Journal in memory only, small: a VM's disk is its overlay.
mkdir -p "$root/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=volatile\nRuntimeMaxUse=8M\n' >"$root/etc/systemd/journald.conf.d/emulator.conf"
: >"$root/etc/machine-id"
echo "debian" >"$root/etc/hostname"

rm -rf "$out"
mv "$out.tmp" "$out"
touch "$out/READY"
echo "image: ready at $out"
