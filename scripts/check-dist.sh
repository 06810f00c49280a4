#!/usr/bin/env bash
# Fails when the committed dist/ is not what `npm run bundle` builds from the current sources.
# Rebuilds with scripts/bundle.sh (what `npm run bundle` runs) into a temporary directory.
#   bash scripts/check-dist.sh [--keep DIR]    (--keep: leave the fresh build in DIR, e.g. for an artifact)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"

keep=""
if [ "${1:-}" = "--keep" ]; then keep=${2:?--keep needs a directory}; fi

# The bundle is built from what the lock pins: npm ci (never npm install, which would rewrite the
# lock) when node_modules is missing or older than package-lock.json, as scripts/setup.sh does.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "check-dist: node_modules missing or older than package-lock.json: npm ci"
  npm ci --no-audit --no-fund
fi

[ -d dist ] || { echo "check-dist: dist/ is missing: run npm run bundle and commit dist/" >&2; exit 1; }

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# The same script `npm run bundle` runs, into another directory.
echo "check-dist: bash scripts/bundle.sh $out/dist"
bash scripts/bundle.sh "$out/dist" >"$out/build.log" 2>&1 || { cat "$out/build.log" >&2; echo "check-dist: the bundle failed" >&2; exit 1; }

if [ -n "$keep" ]; then rm -rf "$keep"; cp -r "$out/dist" "$keep"; fi

if diff -r --strip-trailing-cr dist "$out/dist" >"$out/diff.txt"; then
  echo "check-dist: dist/ is up to date"
else
  echo "check-dist: dist/ is stale: run npm run bundle and commit dist/. Differences:" >&2
  head -n 60 "$out/diff.txt" >&2
  exit 1
fi
