#!/usr/bin/env bash
# Installs the npm dependencies when node_modules is missing or older than package-lock.json.
# `npm install` with the committed lock installs exactly the locked versions (the lock is left
# unchanged). Not `npm ci`: its strict check demands lock entries for every optional platform
# binary (@swc/core-darwin-arm64, …), and a registry that does not serve one of them (as here)
# makes it refuse a correct lock. A second run with nothing changed takes no time.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
command -v node >/dev/null || { echo "error: Node.js 20+ is needed (node not found)" >&2; exit 1; }
major=$(node -p 'process.versions.node.split(".")[0]')
((major >= 20)) || { echo "error: Node.js 20+ is needed, found $(node --version)" >&2; exit 1; }
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "[deps] npm install (locked versions)" >&2
  npm install --no-audit --no-fund --loglevel=error
fi
