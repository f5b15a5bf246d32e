#!/usr/bin/env bash
# Fuzzes the running services' HTTP APIs from their own OpenAPI documents with schemathesis
# (PyPI; installed into a virtualenv under the cache on first use), checking that no generated
# request, valid or not, gets a 5xx or goes unanswered. Run `npm run up` first. Not part of
# `npm test` (minutes per service); run it after changing routes or validation.
#
#   bash scripts/fuzz-api.sh              # all three services, 40 examples per operation
#   FUZZ_EXAMPLES=200 bash scripts/fuzz-api.sh sender
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

CACHE="${PAYAM_CACHE:-$HOME/.cache/payam}"
VENV="$CACHE/schemathesis-venv"
SCHEMATHESIS_VERSION="${SCHEMATHESIS_VERSION:-4.32.5}"
EXAMPLES="${FUZZ_EXAMPLES:-40}"
ADMIN_SECRET="${ADMIN_SECRET:-dev-admin-secret-change-me}"
REPORTS="${FUZZ_REPORT_DIR:-$CACHE/fuzz-reports}"
declare -A PORTS=([sender]="${SENDER_PORT:-3001}" [tracker]="${TRACKER_PORT:-3002}" [segmenter]="${SEGMENTER_PORT:-3003}")
services=("$@")
[[ ${#services[@]} -gt 0 ]] || services=(sender tracker segmenter)

if [[ ! -x "$VENV/bin/st" ]]; then
  echo "[fuzz] installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION"
fi

sender="http://127.0.0.1:${PORTS[sender]}"
curl -sf "$sender/readyz" >/dev/null || { echo "[fuzz] the sender does not answer on $sender: run 'npm run up' first" >&2; exit 1; }
# A workspace of its own: whatever the fuzzer creates stays inside it.
token=$(curl -sf -X POST "$sender/admin/workspaces" -H "Authorization: Bearer $ADMIN_SECRET" -H 'content-type: application/json' \
  -d "{\"name\":\"fuzz $(date -u +%FT%TZ)\"}" | node -e 'let s="";process.stdin.on("data",c=>s+=c).on("end",()=>console.log(JSON.parse(s).apiKey.token))')
# The tracker and segmenter learn keys from api-keys.v1; give them a moment to project it.
sleep 3

mkdir -p "$REPORTS"
failed=0
for svc in "${services[@]}"; do
  port="${PORTS[$svc]:-}"
  [[ -n "$port" ]] || { echo "[fuzz] unknown service '$svc' (sender, tracker or segmenter)" >&2; exit 2; }
  echo "[fuzz] $svc: http://127.0.0.1:$port/openapi.json, $EXAMPLES examples per operation"
  if ! "$VENV/bin/st" run "http://127.0.0.1:$port/openapi.json" -H "Authorization: Bearer $token" \
    --checks not_a_server_error --max-examples "$EXAMPLES" --workers 2 --request-timeout 10 \
    --report junit --report-dir "$REPORTS/$svc"; then
    failed=1
  fi
done
echo "[fuzz] JUnit reports in $REPORTS"
exit $failed
