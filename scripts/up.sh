#!/usr/bin/env bash
# One command for a fresh machine: install everything, start the local stack (Kafka, FerretDB,
# SES emulator) and the three services, and print where each listens. Idempotent.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/ensure-deps.sh
bash infra/local/stack.sh start
bash scripts/services.sh start
cat <<INFO

payam is up.
  sender     http://127.0.0.1:${SENDER_PORT:-3001}   (HTTP API for marketing teams; /healthz /readyz /metrics)
  tracker    http://127.0.0.1:${TRACKER_PORT:-3002}   (pixel /o, clicks /c, unsubscribe /u, SNS /ses/sns, reports)
  segmenter  http://127.0.0.1:${SEGMENTER_PORT:-3003}   (segments, profiles, POST /events)
  kafka      ${KAFKA_BROKERS:-127.0.0.1:9092}
  mongodb    ${MONGODB_URI:-mongodb://127.0.0.1:27017}  (FerretDB)
  ses        ${SES_ENDPOINT:-http://127.0.0.1:8005}   (emulator; sent mail at /store)
  logs       ${PAYAM_STATE:-$HOME/.local/state/payam}/logs
Stop everything with: npm run down
INFO
