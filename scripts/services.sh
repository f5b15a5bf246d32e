#!/usr/bin/env bash
# Starts and stops the three services as background processes with pid files, next to the
# local stack's (same state folder, same logs folder). Used by scripts/up.sh and down.sh.
#   services.sh start | stop | status
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PAYAM_STATE="${PAYAM_STATE:-$HOME/.local/state/payam}"
LOGS="$PAYAM_STATE/logs"
PIDS="$PAYAM_STATE/pids"
# name:port
SERVICES=("sender:${SENDER_PORT:-3001}" "tracker:${TRACKER_PORT:-3002}" "segmenter:${SEGMENTER_PORT:-3003}")

log() { printf '[services] %s\n' "$*" >&2; }
answers() { node -e 'fetch(process.argv[1]).then(r=>process.exit(r.status===200?0:1),()=>process.exit(1))' "$1"; }

start() {
  mkdir -p "$LOGS" "$PIDS"
  for entry in "${SERVICES[@]}"; do
    local name=${entry%%:*} port=${entry##*:}
    if [[ ! -f "$REPO/services/$name/src/main.ts" ]]; then log "$name: not built yet, skipping"; continue; fi
    if answers "http://127.0.0.1:$port/healthz"; then log "$name: already answering on :$port, reusing it"; continue; fi
    log "$name: starting on :$port"
    # `exec` makes the recorded pid node's own (setsid does not fork: a background job of a
    # non-interactive shell is no process-group leader), so stop signals exactly that process.
    (
      cd "$REPO"
      # The local suite's tracker accepts the public demo SNS key, for `npm run demo`; it logs
      # that loudly and refuses it with NODE_ENV=production.
      if [[ $name == tracker && "${NODE_ENV:-}" != production ]]; then export SNS_DEMO_MODE="${SNS_DEMO_MODE:-true}"; fi
      PORT="$port" exec setsid bash scripts/node.sh --import tsx "services/$name/src/main.ts"
    ) >>"$LOGS/$name.log" 2>&1 </dev/null &
    echo $! >"$PIDS/svc-$name.pid"
  done
  for entry in "${SERVICES[@]}"; do
    local name=${entry%%:*} port=${entry##*:}
    [[ -f "$REPO/services/$name/src/main.ts" ]] || continue
    local deadline=$((SECONDS + 90))
    until answers "http://127.0.0.1:$port/readyz"; do
      if ((SECONDS > deadline)); then log "$name is not ready after 90s; last log lines:"; tail -n 30 "$LOGS/$name.log" >&2; exit 1; fi
      if [[ -f "$PIDS/svc-$name.pid" ]] && ! kill -0 "$(cat "$PIDS/svc-$name.pid")" 2>/dev/null; then
        log "$name exited during start; last log lines:"; tail -n 30 "$LOGS/$name.log" >&2; rm -f "$PIDS/svc-$name.pid"; exit 1
      fi
      sleep 0.5
    done
    log "$name: ready  http://127.0.0.1:$port  (/readyz 200)"
  done
}

stop() {
  for entry in "${SERVICES[@]}"; do
    local name=${entry%%:*} f="$PIDS/svc-${entry%%:*}.pid"
    [[ -f "$f" ]] || continue
    local pid; pid=$(cat "$f")
    if kill -0 "$pid" 2>/dev/null; then
      log "stopping $name (pid $pid)"
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -0 "$pid" 2>/dev/null && { log "$name did not stop in 20s, killing it"; kill -KILL -- "-$pid" 2>/dev/null || true; }
    fi
    rm -f "$f"
  done
}

status() {
  for entry in "${SERVICES[@]}"; do
    local name=${entry%%:*} port=${entry##*:}
    if answers "http://127.0.0.1:$port/readyz"; then echo "$name: ready on :$port"; else echo "$name: not ready"; fi
  done
}

case "${1:-}" in start) start ;; stop) stop ;; status) status ;; *) echo "usage: $0 start|stop|status" >&2; exit 2 ;; esac
