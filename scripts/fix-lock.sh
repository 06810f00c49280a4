#!/usr/bin/env bash
# Completes package-lock.json after a change to package.json, for every platform npm ci runs on
# (Linux, macOS, Windows; x64 and arm64), without touching node_modules, then checks it.
# Versions already in the lock are kept; only missing entries are resolved from the registry.
#   bash scripts/fix-lock.sh
# Why: a registry mirror that serves only this platform's optional packages leaves out e.g. jest's
# @unrs/resolver-binding-darwin-arm64, and npm ci refuses such a lock on every OS. Resolving once per
# platform with --os/--cpu adds what each platform needs; scripts/check-lock.sh proves the result.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"

flags=(--package-lock-only --ignore-scripts --no-audit --no-fund)
# When nothing changes, the lock keeps its time: scripts/setup.sh reinstalls node_modules (npm ci)
# when the lock is newer than node_modules/.package-lock.json.
before=$(mktemp)
trap 'rm -f "$before"' EXIT
cp -p package-lock.json "$before"
echo "fix-lock: npm install ${flags[*]}"
npm install "${flags[@]}"
for platform in linux/x64 linux/arm64 darwin/arm64 darwin/x64 win32/x64 win32/arm64; do
  echo "fix-lock: npm install ${flags[*]} --os=${platform%/*} --cpu=${platform#*/}"
  npm install "${flags[@]}" --os="${platform%/*}" --cpu="${platform#*/}"
done
if cmp -s package-lock.json "$before"; then
  touch -r "$before" package-lock.json
  echo "fix-lock: package-lock.json was complete already (unchanged)"
else
  echo "fix-lock: package-lock.json completed; commit it (git diff --stat package-lock.json)"
fi
bash scripts/check-lock.sh
