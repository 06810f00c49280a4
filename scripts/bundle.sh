#!/usr/bin/env bash
# Bundles the action into one directory (default dist/): ncc for the code, plus the two .proto files
# etcd3's rpc.proto imports, which ncc does not follow, and the masters' start-up script. OUT_DIR is
# replaced.   bash scripts/bundle.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist}
export PATH="$PWD/node_modules/.bin:$PATH"
# From scratch: ncc leaves the files of an earlier build, and chunk names change with the code.
rm -rf -- "${out:?}"
# Minified (names kept: ncc mangles locals only), as Google's own actions ship theirs: half the size,
# and less for Node to parse at every start. Modules loaded on first use are `import()`ed with
# webpackMode "eager", which keeps them in index.js (ncc minifies no other chunk) but runs them late.
ncc build src/index.ts -o "$out" --license licenses.txt --target es2022 --minify
cp node_modules/etcd3/proto/kv.proto node_modules/etcd3/proto/auth.proto "$out/"
# The masters' start-up script, read by src/vm/startup-script.ts at run time.
cp vm/startup.sh "$out/startup.sh"
