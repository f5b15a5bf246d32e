#!/usr/bin/env bash
# One command for a fresh machine: install everything and run the whole test suite. jest's
# globalSetup starts the local stack itself (and stops it afterwards if it started it).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/ensure-deps.sh
bash scripts/ensure-browser.sh
echo "[test] type-check" >&2
npx tsc -p tsconfig.json --noEmit
echo "[test] lint" >&2
npx eslint . --max-warnings=0
echo "[test] jest" >&2
if [[ $# -gt 0 ]]; then
  npx jest --ci "$@"
else
  # The whole-journey test runs its own pass after the rest: it starts all three services and
  # on two cores would otherwise share FerretDB with the heaviest campaign tests.
  npx jest --ci --testPathIgnorePatterns /node_modules/ '<rootDir>/tests/journey'
  echo "[test] jest: whole journey" >&2
  npx jest --ci tests/journey
fi
