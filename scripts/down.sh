#!/usr/bin/env bash
# Stops the services and the local stack that scripts/up.sh started (by pid file), nothing else.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/services.sh stop
bash infra/local/stack.sh stop
