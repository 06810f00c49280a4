#!/usr/bin/env bash
# Idempotent set-up for `npm test` and `npm run demo`: installs only what is missing, says what it did.
#   - npm ci when node_modules is missing or older than package-lock.json
#   - Node 24 from node_modules/.bin (the `node` dev dependency; the system node may be older)
#   - Debian's etcd-server / etcd-client when `etcd` / `etcdctl` are not on PATH, then etcd >= 3.4
#   - Debian's shellcheck (the start-up script's tests lint it)
#   - as root: debootstrap, nftables and the emulator's Debian 12 VM image (cached, built once per recipe)
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "setup: $*"; }
fail() { echo "setup: error: $*" >&2; exit 1; }

# npm writes node_modules/.package-lock.json on every install: older than the lock means stale.
if [ ! -d node_modules ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "node_modules missing or older than package-lock.json: running npm ci"
  # No `npm install` fallback: it would rewrite the lock. A lock npm ci refuses is fixed by
  # scripts/fix-lock.sh (docs/development.md, "The lock file").
  npm ci --no-audit --no-fund || fail "npm ci failed; if it says the lock is out of sync or misses packages, run bash scripts/fix-lock.sh and commit package-lock.json"
else
  say "node_modules up to date"
fi

node_bin=node_modules/.bin/node
[ -x "$node_bin" ] || fail "$node_bin is missing: the project's devDependency 'node' (Node 24) did not install; run npm ci"
node_version=$("$node_bin" --version)
case "$node_version" in
  v24.*) say "Node $node_version from $node_bin" ;;
  *) fail "$node_bin is $node_version, Node 24 is needed (devDependency 'node'); run npm ci" ;;
esac

# apt-get as root, or through sudo when there is one; `apt-get update` at most once per run.
sudo_cmd=(env)
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo_cmd=(sudo -n); else sudo_cmd=(unavailable); fi
fi
apt_updated=no
apt_install() {
  [ "${sudo_cmd[0]:-}" != unavailable ] || fail "need root or sudo to install $* (apt-get)"
  command -v apt-get >/dev/null 2>&1 || fail "apt-get not found: install $* (etcd >= 3.4) by hand"
  if [ "$apt_updated" = no ]; then
    say "apt-get update"
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_updated=yes
  fi
  say "apt-get install $*"
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

installed_server=no
if command -v etcd >/dev/null 2>&1; then
  say "etcd found at $(command -v etcd)"
else
  apt_install etcd-server
  installed_server=yes
fi
if command -v etcdctl >/dev/null 2>&1; then
  say "etcdctl found at $(command -v etcdctl)"
else
  apt_install etcd-client
fi

# The start-up script's tests lint it (and the units' helpers) with shellcheck.
command -v shellcheck >/dev/null 2>&1 || apt_install shellcheck

# The Debian package starts a system etcd on 127.0.0.1:2379; the tests start their own.
if [ "$installed_server" = yes ] && command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet etcd 2>/dev/null; then
  say "stopping the etcd service the package started (tests run their own etcd processes)"
  "${sudo_cmd[@]}" systemctl disable --now etcd >/dev/null 2>&1 || say "could not stop the etcd service; it is harmless to the tests"
fi

etcd_version=$(etcd --version 2>/dev/null | sed -n 's/^etcd Version: *//p' | head -n 1)
[ -n "$etcd_version" ] || fail "could not read the version of $(command -v etcd)"
major=${etcd_version%%.*}
rest=${etcd_version#*.}
minor=${rest%%.*}
if [ "$major" -lt 3 ] || { [ "$major" -eq 3 ] && [ "$minor" -lt 4 ]; }; then
  fail "etcd $etcd_version at $(command -v etcd) is too old: learners need etcd >= 3.4"
fi
say "etcd $etcd_version (>= 3.4)"

# The emulator's Debian VM runtime: debootstrap to build the image once (cached outside the
# repository, rebuilt when its recipe changes), nft for the VPC firewall. Only as root: the runtime
# needs namespaces and mounts.
if [ "$(id -u)" -eq 0 ] && [ "$(uname -s)" = Linux ]; then
  command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap
  command -v nft >/dev/null 2>&1 || apt_install nftables
  "$node_bin" emulator/vm/build-image.ts || fail "could not build the Debian VM image (see above)"
else
  say "not root: the emulator's Debian VM runtime is unavailable; tests that need it are skipped with a warning"
fi

# Emulated master VMs serve their apiserver on port 443 of their own loopback address: a process
# that is not root needs low ports opened to it (GitHub's hosted runners run as a sudo-capable user).
if [ "$(id -u)" -ne 0 ]; then
  start=$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start 2>/dev/null || echo 1024)
  if [ "$start" -gt 443 ]; then
    if [ "${sudo_cmd[0]:-}" != unavailable ] && "${sudo_cmd[@]}" sysctl -qw net.ipv4.ip_unprivileged_port_start=0; then
      say "opened ports below 1024 to unprivileged processes (net.ipv4.ip_unprivileged_port_start=0)"
    else
      say "warning: not root and cannot open port 443 to this user; emulated VMs cannot serve their apiserver (run as root, or set net.ipv4.ip_unprivileged_port_start=0)"
    fi
  fi
fi
