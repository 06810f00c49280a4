#!/usr/bin/env bash
# Formats the whole repository with Prettier (.prettierrc.json; .prettierignore keeps dist/,
# Markdown and the lock out), then says what changed and what ESLint still reports, by rule.
# Run it when nobody else has uncommitted edits, and commit its changes on their own.
#   bash scripts/format-all.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"

prettier --write --log-level warn .
echo "format-all: $(git diff --name-only | wc -l) file(s) changed by Prettier"
git diff --shortstat

echo "format-all: ESLint problems left, by rule (fix them by hand; npm run lint lists them):"
eslint -f json . 2>/dev/null | node -e '
  let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
    const counts = {};
    for (const f of JSON.parse(s)) for (const m of f.messages) {
      const rule = m.ruleId ?? (m.message.startsWith("Unused eslint-disable") ? "unused eslint-disable directive" : "(parse error)");
      counts[rule] = (counts[rule] ?? 0) + 1;
    }
    const rows = Object.entries(counts).sort((a, b) => b[1] - a[1]);
    for (const [rule, n] of rows) console.log(`  ${String(n).padStart(4)}  ${rule}`);
    if (rows.length === 0) console.log("  none");
  });' || true
