#!/usr/bin/env bash
# Bundles the action into one directory (default dist/): ncc for the code, plus the two .proto files
# etcd3's rpc.proto imports, which ncc does not follow, and the masters' start-up script.   bash scripts/bundle.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist}
export PATH="$PWD/node_modules/.bin:$PATH"
ncc build src/index.ts -o "$out" --license licenses.txt --target es2022
cp node_modules/etcd3/proto/kv.proto node_modules/etcd3/proto/auth.proto "$out/"
# The masters' start-up script, read by src/vm/startup-script.ts at run time.
cp vm/startup.sh "$out/startup.sh"
