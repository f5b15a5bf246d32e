#!/usr/bin/env bash
# Runs a command with the local stack up (started here if it was not running, and then stopped
# again afterwards). The benchmarks use it: `bash scripts/with-stack.sh bash scripts/node.sh --import tsx bench/x/run.ts`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/ensure-deps.sh
was_up=0
bash infra/local/stack.sh healthy && was_up=1
bash infra/local/stack.sh start
if [[ "$was_up" == 0 && "${PAYAM_KEEP_STACK:-0}" != 1 ]]; then trap 'bash infra/local/stack.sh stop' EXIT; fi
npx "$@"
