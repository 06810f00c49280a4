#!/usr/bin/env bash
# Fails when package-lock.json would not install with `npm ci` on a clean clone: out of step with
# package.json, or missing optional packages of another platform (e.g. jest's
# @unrs/resolver-binding-darwin-arm64), which npm ci refuses on every OS.
# Needs no network: npm ci --dry-run --offline with an empty cache reads only the two files.
#   bash scripts/check-lock.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp package.json package-lock.json "$tmp/"
if (cd "$tmp" && npm ci --dry-run --ignore-scripts --offline --no-audit --no-fund --cache "$tmp/.npm-cache") >"$tmp/ci.log" 2>&1; then
  echo "check-lock: package-lock.json is complete (npm ci accepts it on a clean clone)"
else
  grep -v '^npm error A complete log' "$tmp/ci.log" | grep -i 'error' | head -n 40 >&2 || tail -n 40 "$tmp/ci.log" >&2
  echo "check-lock: npm ci refuses package-lock.json: run \`bash scripts/fix-lock.sh\` and commit package-lock.json (docs/development.md, \"The lock file\")" >&2
  exit 1
fi
