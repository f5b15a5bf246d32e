#!/usr/bin/env bash
# The local stack without Docker: Apache Kafka 3.9 (KRaft, jars from Maven Central, run by
# the JDK), FerretDB v1.24 (MongoDB wire protocol, SQLite backend, built with Go) and the
# aws-ses-v2-local SES emulator.
#
#   stack.sh start    start what is not already answering, wait until healthy (idempotent)
#   stack.sh stop     stop exactly the processes this script started (by pid file)
#   stack.sh status   say what answers and who started it
#   stack.sh healthy  exit 0 when everything already answers
#
# Setting MONGODB_URI, KAFKA_BROKERS or SES_ENDPOINT points the suite at an existing server
# and this script leaves that part alone.
#
# Downloads and builds live in $PAYAM_CACHE (outside the repository, reused across clones);
# data, logs and pid files in $PAYAM_STATE.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
PAYAM_CACHE="${PAYAM_CACHE:-$HOME/.cache/payam}"
PAYAM_STATE="${PAYAM_STATE:-$HOME/.local/state/payam}"
LOGS="$PAYAM_STATE/logs"
PIDS="$PAYAM_STATE/pids"

KAFKA_VERSION=3.9.0
KAFKA_LIBS="$PAYAM_CACHE/kafka-$KAFKA_VERSION/libs"
KAFKA_PORT="${PAYAM_KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${PAYAM_KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}"
FERRETDB_VERSION=v1.24.0
FERRETDB_BIN="$PAYAM_CACHE/bin/ferretdb-$FERRETDB_VERSION"
FERRETDB_PORT="${PAYAM_FERRETDB_PORT:-27017}"
SES_PORT="${PAYAM_SES_PORT:-8005}"

log() { printf '[stack] %s\n' "$*" >&2; }
die() { printf '[stack] error: %s\n' "$*" >&2; exit 1; }

need() {
  command -v "$1" >/dev/null 2>&1 || die "'$1' is not installed; it is needed to $2. Install it (see README, 'Fresh machine') or set $3 to use an existing server."
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pid_alive() { [[ -f "$PIDS/$1.pid" ]] && kill -0 "$(cat "$PIDS/$1.pid")" 2>/dev/null; }

wait_until() { # name seconds command...
  local name=$1 secs=$2; shift 2
  local deadline=$((SECONDS + secs))
  until "$@"; do
    if ((SECONDS >= deadline)); then
      log "$name did not become healthy within ${secs}s; last log lines:"
      tail -n 30 "$LOGS/$name.log" >&2 || true
      return 1
    fi
    if [[ -f "$PIDS/$name.pid" ]] && ! pid_alive "$name"; then
      log "$name exited during start; last log lines:"
      tail -n 30 "$LOGS/$name.log" >&2 || true
      rm -f "$PIDS/$name.pid"
      return 1
    fi
    sleep 0.5
  done
}

spawn() { # name command... : detached, own session, pid recorded
  local name=$1; shift
  mkdir -p "$LOGS" "$PIDS"
  setsid "$@" >>"$LOGS/$name.log" 2>&1 < /dev/null &
  echo $! >"$PIDS/$name.pid"
}

# ---------------------------------------------------------------- Kafka
kafka_healthy() { node "$HERE/kafka-ready.mjs" "127.0.0.1:$KAFKA_PORT" >/dev/null 2>&1; }

kafka_install() {
  if [[ -f "$KAFKA_LIBS/kafka_2.13-$KAFKA_VERSION.jar" && -f "$KAFKA_LIBS/.complete" ]]; then return; fi
  need mvn "fetch the Kafka broker jars from Maven Central" KAFKA_BROKERS
  log "fetching Kafka $KAFKA_VERSION jars from Maven Central into $KAFKA_LIBS (first start only)"
  mkdir -p "$KAFKA_LIBS"
  (cd "$HERE/kafka" && mvn -q -B package -Dkafka.libs.dir="$KAFKA_LIBS" -Dkafka.version="$KAFKA_VERSION") \
    >"$PAYAM_CACHE/kafka-mvn.log" 2>&1 || { tail -n 40 "$PAYAM_CACHE/kafka-mvn.log" >&2; die "mvn could not fetch the Kafka jars"; }
  rm -rf "$HERE/kafka/target"
  touch "$KAFKA_LIBS/.complete"
}

kafka_start() {
  if [[ -n "${KAFKA_BROKERS:-}" ]]; then log "kafka: KAFKA_BROKERS=$KAFKA_BROKERS is set, not starting one"; return; fi
  if port_open $KAFKA_PORT; then
    wait_until kafka 60 kafka_healthy || die "something listens on $KAFKA_PORT but is not a healthy Kafka"
    log "kafka: already answering on 127.0.0.1:$KAFKA_PORT, reusing it"; return
  fi
  need java "run the Kafka broker" KAFKA_BROKERS
  kafka_install
  local data="$PAYAM_STATE/kafka" conf="$PAYAM_STATE/kafka/server.properties"
  mkdir -p "$data/logs"
  sed -e "s#@DATA@#$data/logs#" -e "s#@PORT@#$KAFKA_PORT#g" -e "s#@CONTROLLER_PORT@#$KAFKA_CONTROLLER_PORT#g" \
    "$HERE/kafka/server.properties" >"$conf"
  if [[ ! -f "$data/logs/meta.properties" ]]; then
    log "kafka: formatting KRaft storage in $data"
    local cid; cid=$(java -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1)
    java -cp "$KAFKA_LIBS/*" -Dlog4j.configuration="file:$HERE/kafka/log4j.properties" \
      kafka.tools.StorageTool format -t "$cid" -c "$conf" >>"$LOGS/kafka.log" 2>&1 || die "kafka storage format failed (see $LOGS/kafka.log)"
  fi
  log "kafka: starting $KAFKA_VERSION (KRaft) on 127.0.0.1:$KAFKA_PORT"
  spawn kafka java -Xms256m -Xmx1g -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$HERE/kafka/log4j.properties" -Dkafka.logs.dir="$LOGS" \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$conf"
}

# ---------------------------------------------------------------- FerretDB
ferretdb_healthy() { node "$HERE/mongo-ready.mjs" "mongodb://127.0.0.1:$FERRETDB_PORT/" >/dev/null 2>&1; }

ferretdb_install() {
  [[ -x "$FERRETDB_BIN" ]] && return
  need go "build FerretDB" MONGODB_URI
  log "building FerretDB $FERRETDB_VERSION with Go (first start only, about a minute)"
  # Built from the module's exact version: `go install …@version` also asks the proxy for
  # the module's version list, which is not always served, and a module-cache build lacks
  # build/version/version.txt, which FerretDB refuses to start without.
  local src="$PAYAM_CACHE/src/ferretdb-$FERRETDB_VERSION" tmp; tmp=$(mktemp -d)
  (
    cd "$tmp" && go mod init payam.local/ferretdb-build >/dev/null 2>&1
    go mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" >"$tmp/mod.json"
    local dir; dir=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).Dir)' "$tmp/mod.json")
    rm -rf "$src" && mkdir -p "$(dirname "$src")" && cp -r "$dir" "$src" && chmod -R u+w "$src"
    echo "$FERRETDB_VERSION" >"$src/build/version/version.txt"
    cd "$src" && mkdir -p "$(dirname "$FERRETDB_BIN")" && go build -trimpath -o "$FERRETDB_BIN" ./cmd/ferretdb
  ) >"$PAYAM_CACHE/ferretdb-build.log" 2>&1 || { tail -n 40 "$PAYAM_CACHE/ferretdb-build.log" >&2; die "building FerretDB failed"; }
  rm -rf "$tmp"
}

ferretdb_start() {
  if [[ -n "${MONGODB_URI:-}" ]]; then log "ferretdb: MONGODB_URI is set, not starting one"; return; fi
  if port_open $FERRETDB_PORT; then
    wait_until ferretdb 30 ferretdb_healthy || die "something listens on $FERRETDB_PORT but does not answer like MongoDB"
    log "ferretdb: already answering on 127.0.0.1:$FERRETDB_PORT, reusing it"
    # Ours (pid file here): its data directory is known, so make sure it is being indexed.
    if pid_alive ferretdb; then ferretdb_index_start; fi
    return
  fi
  ferretdb_install
  mkdir -p "$PAYAM_STATE/ferretdb/data" "$PAYAM_STATE/ferretdb/state"
  log "ferretdb: starting $FERRETDB_VERSION (SQLite) on 127.0.0.1:$FERRETDB_PORT"
  spawn ferretdb "$FERRETDB_BIN" --handler=sqlite --sqlite-url="file:$PAYAM_STATE/ferretdb/data/" \
    --state-dir="$PAYAM_STATE/ferretdb/state" --listen-addr="127.0.0.1:$FERRETDB_PORT" \
    --debug-addr=127.0.0.1:0 --telemetry=disable --log-level=WARN
  ferretdb_index_start
}

# FerretDB v1.24's `_id` lookups scan the table: its SQLite query and its `_id_` index spell the
# expression differently. ferretdb/id_index.py adds the index the query can use to every
# collection, as collections appear (its docstring and README "Storage on FerretDB" say more).
ferretdb_index_start() {
  pid_alive ferretdb-index && return
  need python3 "index FerretDB's _id lookups (infra/local/ferretdb/id_index.py)" MONGODB_URI
  spawn ferretdb-index python3 "$HERE/ferretdb/id_index.py" "$PAYAM_STATE/ferretdb/data"
}

# ---------------------------------------------------------------- SES emulator
ses_healthy() { node -e 'fetch(process.argv[1]).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))' "http://127.0.0.1:$SES_PORT/store"; }

ses_start() {
  if [[ -n "${SES_ENDPOINT:-}" ]]; then log "ses: SES_ENDPOINT=$SES_ENDPOINT is set, not starting the emulator"; return; fi
  if port_open $SES_PORT; then
    wait_until ses 20 ses_healthy || die "something listens on $SES_PORT but is not the SES emulator"
    log "ses: already answering on 127.0.0.1:$SES_PORT, reusing it"; return
  fi
  local bin="$REPO/node_modules/aws-ses-v2-local/dist/cli.js"
  [[ -f "$bin" ]] || die "aws-ses-v2-local is not installed: run 'npm ci' in $REPO first"
  log "ses: starting aws-ses-v2-local on 127.0.0.1:$SES_PORT"
  spawn ses node "$bin" --host 127.0.0.1 --port $SES_PORT
}

# ---------------------------------------------------------------- commands
start() {
  need node "run the health checks" PATH
  if [[ -n "${1:-}" ]]; then only_start "$1"; return; fi
  mkdir -p "$LOGS" "$PIDS" "$PAYAM_CACHE"
  # Start all three first, then wait: Kafka's JVM start overlaps with the others.
  kafka_start
  ferretdb_start
  ses_start
  [[ -n "${KAFKA_BROKERS:-}" ]] || wait_until kafka 120 kafka_healthy || die "kafka did not start"
  [[ -n "${MONGODB_URI:-}" ]] || wait_until ferretdb 60 ferretdb_healthy || die "ferretdb did not start"
  [[ -n "${SES_ENDPOINT:-}" ]] || wait_until ses 30 ses_healthy || die "ses emulator did not start"
  log "ready: kafka ${KAFKA_BROKERS:-127.0.0.1:$KAFKA_PORT}, mongodb ${MONGODB_URI:-mongodb://127.0.0.1:$FERRETDB_PORT}, ses ${SES_ENDPOINT:-http://127.0.0.1:$SES_PORT} (logs in $LOGS)"
}

# `stack.sh start kafka` starts (and waits for) one component: tests use it, with
# PAYAM_STATE and PAYAM_KAFKA_PORT set, for a second broker they may stop and restart.
only_start() {
  mkdir -p "$LOGS" "$PIDS" "$PAYAM_CACHE"
  case "$1" in
    kafka) kafka_start; [[ -n "${KAFKA_BROKERS:-}" ]] || wait_until kafka 120 kafka_healthy ;;
    ferretdb) ferretdb_start; [[ -n "${MONGODB_URI:-}" ]] || wait_until ferretdb 60 ferretdb_healthy ;;
    ses) ses_start; [[ -n "${SES_ENDPOINT:-}" ]] || wait_until ses 30 ses_healthy ;;
    *) die "unknown component '$1' (kafka, ferretdb or ses)" ;;
  esac
}

stop_one() {
  local name=$1 f="$PIDS/$1.pid"
  [[ -f "$f" ]] || return 0
  local pid; pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    log "stopping $name (pid $pid)"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then
      log "$name did not stop in 30s, killing it"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$f"
}

stop() {
  if [[ "${1:-}" == ferretdb ]]; then stop_one ferretdb-index; fi
  if [[ -n "${1:-}" ]]; then stop_one "$1"; return; fi
  stop_one ses
  stop_one ferretdb-index
  stop_one ferretdb
  stop_one kafka
}

# Exit 0 when every part this script would start already answers (used to decide whether a
# test run or a benchmark must stop the stack again afterwards).
healthy() {
  [[ -n "${KAFKA_BROKERS:-}" ]] || kafka_healthy || return 1
  [[ -n "${MONGODB_URI:-}" ]] || ferretdb_healthy || return 1
  [[ -n "${SES_ENDPOINT:-}" ]] || ses_healthy || return 1
}

status() {
  local name port
  for pair in kafka:$KAFKA_PORT ferretdb:$FERRETDB_PORT ses:$SES_PORT; do
    name=${pair%%:*}; port=${pair##*:}
    local who="not started by this script"
    pid_alive "$name" && who="started here, pid $(cat "$PIDS/$name.pid")"
    if port_open "$port"; then echo "$name: answering on 127.0.0.1:$port ($who)"; else echo "$name: down"; fi
  done
  if pid_alive ferretdb-index; then echo "ferretdb-index: indexing $PAYAM_STATE/ferretdb/data (pid $(cat "$PIDS/ferretdb-index.pid"))"; else echo "ferretdb-index: not running"; fi
}

case "${1:-}" in
  start) start "${2:-}" ;;
  stop) stop "${2:-}" ;;
  status) status ;;
  healthy) healthy ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
