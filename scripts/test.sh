#!/usr/bin/env bash
# The full test suite: set-up, lint, type checks, then every package's tests against
# the real PostgreSQL, Redis and Mosquitto. Ends with one line "N passed, N failed".
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh

echo "test: lint and format (biome)"
npx biome check .

echo "test: type-checking tests, scripts and benchmarks"
npx tsc -p tsconfig.tests.json

report=$(mktemp)
trap 'rm -f "$report"' EXIT
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
# shellcheck disable=SC2016 # the JavaScript is single-quoted on purpose
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
  if (r.numTotalTests === 0) { console.error("test: no test ran"); process.exit(1); }
' "$report" || status=1
exit "$status"
