#!/usr/bin/env bash
# Local Kafka (KRaft) + Cassandra 5.0 for tests and CI, from Maven Central jars.
# No Docker needed: Java 17, Maven and Node are enough.
#
#   scripts/engines.sh start    # fetch jars (cached), start both, wait, print exports
#   scripts/engines.sh stop     # stop both
#   scripts/engines.sh status   # say which are up (exit 0 only if all are up)
#   scripts/engines.sh env      # print the exports only
#   scripts/engines.sh fetch    # only download the jars into the cache
#   scripts/engines.sh logs [kafka|cassandra]   # tail the engine logs
#
#   eval "$(scripts/engines.sh start)"   # stdout carries only `export ...` lines
#
# Environment (all optional):
#   ENGINES_HOME              cache + run dir          (default ~/.cache/parley-engines)
#   ENGINES_CACHE             where the jars are kept  (default $ENGINES_HOME; a second set of
#                             engines with its own ENGINES_HOME can share the first one's jars)
#   ENGINES                   which engines            (default "kafka cassandra")
#   ENGINES_KEEP_DATA=1       keep data from the previous run (default: wipe on start)
#   ENGINES_KAFKA_VERSION     (default 4.1.2)    ENGINES_CASSANDRA_VERSION (default 5.0.9)
#   ENGINES_KAFKA_PORT        (default 19092)    ENGINES_KAFKA_CONTROLLER_PORT (default 19093)
#   ENGINES_CASSANDRA_PORT    (default 19042)    ENGINES_CASSANDRA_STORAGE_PORT (default 17000)
#   ENGINES_CASSANDRA_JMX_PORT  enable JMX (nodetool) on this local port (default: JMX off)
#   ENGINES_KAFKA_HEAP        (default 512m)     ENGINES_CASSANDRA_HEAP (default 1g)
#   ENGINES_KAFKA_TIMEOUT     seconds to wait (default 90)
#   ENGINES_CASSANDRA_TIMEOUT seconds to wait (default 180)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CONF_SRC="$HERE/engines"

ENGINES_HOME="${ENGINES_HOME:-$HOME/.cache/parley-engines}"
ENGINES="${ENGINES:-kafka cassandra}"
KAFKA_VERSION="${ENGINES_KAFKA_VERSION:-4.1.2}"
CASSANDRA_VERSION="${ENGINES_CASSANDRA_VERSION:-5.0.9}"
KAFKA_PORT="${ENGINES_KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${ENGINES_KAFKA_CONTROLLER_PORT:-19093}"
CASS_PORT="${ENGINES_CASSANDRA_PORT:-19042}"
CASS_STORAGE_PORT="${ENGINES_CASSANDRA_STORAGE_PORT:-17000}"
CASS_JMX_PORT="${ENGINES_CASSANDRA_JMX_PORT:-}"
KAFKA_HEAP="${ENGINES_KAFKA_HEAP:-512m}"
CASS_HEAP="${ENGINES_CASSANDRA_HEAP:-1g}"
KAFKA_TIMEOUT="${ENGINES_KAFKA_TIMEOUT:-90}"
CASS_TIMEOUT="${ENGINES_CASSANDRA_TIMEOUT:-180}"

ENGINES_CACHE="${ENGINES_CACHE:-$ENGINES_HOME}"
RUN="$ENGINES_HOME/run"
KAFKA_LIB="$ENGINES_CACHE/kafka-$KAFKA_VERSION/lib"
CASS_LIB="$ENGINES_CACHE/cassandra-$CASSANDRA_VERSION/lib"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"

log() { printf '[engines %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
want() { [[ " $ENGINES " == *" $1 "* ]]; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

print_env() {
  if want cassandra; then
    echo "export CASSANDRA_CONTACT_POINTS=127.0.0.1:$CASS_PORT"
    echo "export CASSANDRA_LOCAL_DC=datacenter1"
  fi
  if want kafka; then
    echo "export KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT"
  fi
}

# ---------------------------------------------------------------- processes

# is_up NAME: pid file points to a live JVM running that engine's main class.
is_up() {
  local name="$1" pidf="$RUN/$1.pid" pid main
  [[ -f "$pidf" ]] || return 1
  pid="$(cat "$pidf" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  case "$name" in
    kafka) main='kafka.Kafka' ;;
    cassandra) main='org.apache.cassandra.service.CassandraDaemon' ;;
  esac
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$main"
}

pid_of() { cat "$RUN/$1.pid" 2>/dev/null || true; }

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

rss_of() {
  local pid; pid="$(pid_of "$1")"
  awk '/^VmRSS:/ { printf "%d MiB", $2 / 1024 }' "/proc/$pid/status" 2>/dev/null || echo "?"
}

stop_one() {
  local name="$1" pid i
  if ! is_up "$name"; then
    rm -f "$RUN/$name.pid"
    return 0
  fi
  pid="$(pid_of "$name")"
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 300; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name did not stop in 30s; killing"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.5
  fi
  rm -f "$RUN/$name.pid"
}

show_log_tail() {
  local f="$RUN/$1.log"
  if [[ -f "$f" ]]; then
    log "---- last 60 lines of $f ----"
    tail -n 60 "$f" | cut -c1-400 >&2 || true
    log "---- end of $f ----"
  fi
}

# ---------------------------------------------------------------- download

fetch_one() { # fetch_one kafka|cassandra
  local name="$1" lib version prop
  if [[ "$name" == kafka ]]; then lib="$KAFKA_LIB"; version="$KAFKA_VERSION"; prop=kafka.version
  else lib="$CASS_LIB"; version="$CASSANDRA_VERSION"; prop=cassandra.version; fi
  [[ -f "$lib/.complete" ]] && return 0
  command -v mvn >/dev/null || die "mvn not found (needed once to fetch the $name jars)"
  local t0 tmp; t0="$(now)"; tmp="$lib.tmp.$$"
  log "fetching $name $version jars from Maven Central into $lib"
  rm -rf "$tmp"; mkdir -p "$tmp"
  if ! mvn -B -q -f "$CONF_SRC/pom.xml" -P "$name" "-D$prop=$version" \
        dependency:copy-dependencies "-DoutputDirectory=$tmp" >"$tmp.mvn.log" 2>&1; then
    tail -n 40 "$tmp.mvn.log" >&2
    rm -rf "$tmp"
    die "mvn could not fetch the $name jars (log above)"
  fi
  rm -f "$tmp.mvn.log"
  touch "$tmp/.complete"
  rm -rf "$lib"; mkdir -p "$(dirname "$lib")"; mv "$tmp" "$lib"
  log "fetched $name in $(since "$t0")s ($(du -sh "$lib" | cut -f1))"
}

# ---------------------------------------------------------------- Kafka

random_cluster_id() { # 16 random bytes, URL-safe base64 without padding (Kafka Uuid format)
  # Never one that starts with "-": the storage tool would read it as an option (1 time in 64;
  # Kafka's own Uuid.randomUuid() skips those for the same reason).
  local id
  while :; do
    id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
    [[ "$id" == -* ]] || break
  done
  printf '%s' "$id"
}

launch_kafka() {
  local dir="$RUN/kafka" data="$RUN/kafka/data" props="$RUN/kafka/server.properties"
  port_busy "$KAFKA_PORT" && die "port $KAFKA_PORT is already in use by another process (set ENGINES_KAFKA_PORT)"
  port_busy "$KAFKA_CONTROLLER_PORT" && die "port $KAFKA_CONTROLLER_PORT is already in use (set ENGINES_KAFKA_CONTROLLER_PORT)"
  [[ "${ENGINES_KEEP_DATA:-0}" == 1 ]] || rm -rf "$data"
  mkdir -p "$data"
  sed -e "s|@KAFKA_PORT@|$KAFKA_PORT|g" \
      -e "s|@KAFKA_CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" \
      -e "s|@KAFKA_DATA@|$data|g" \
      "$CONF_SRC/server.properties.tmpl" >"$props"
  local cp="$KAFKA_LIB/*"
  local jvm=(-Xms256m "-Xmx$KAFKA_HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent
    -XX:TieredStopAtLevel=1 -Xshare:auto
    -Djava.awt.headless=true -Djava.net.preferIPv4Stack=true
    "-Dlog4j2.configurationFile=$CONF_SRC/kafka-log4j2.properties"
    "-Dkafka.logs.dir=$dir")
  if [[ ! -f "$data/meta.properties" ]]; then
    local id; id="$(random_cluster_id)"
    log "kafka: formatting storage (cluster id $id)"
    if ! "$JAVA" "${jvm[@]}" -cp "$cp" kafka.tools.StorageTool format \
          -t "$id" -c "$props" --ignore-formatted >"$dir/format.log" 2>&1; then
      cat "$dir/format.log" >&2
      die "kafka storage format failed"
    fi
  fi
  : >"$RUN/kafka.log"
  nohup "$JAVA" "${jvm[@]}" -cp "$cp" kafka.Kafka "$props" \
    </dev/null >>"$RUN/kafka.log" 2>&1 &
  echo $! >"$RUN/kafka.pid"
  log "kafka: started pid $! (log $RUN/kafka.log)"
}

ping_kafka() {
  if command -v node >/dev/null; then
    # --warm: also wait for the group and transaction coordinators (creates
    # __consumer_offsets and __transaction_state up front).
    node "$CONF_SRC/kafka-ping.mjs" 127.0.0.1 "$KAFKA_PORT" 3000 ${1:+"$1"} 2>/dev/null
  else
    port_busy "$KAFKA_PORT" && grep -q 'Kafka Server started' "$RUN/kafka.log" && echo "port open"
  fi
}

# ---------------------------------------------------------------- Cassandra

launch_cassandra() {
  local dir="$RUN/cassandra" data="$RUN/cassandra/data" yaml="$RUN/cassandra/cassandra.yaml"
  port_busy "$CASS_PORT" && die "port $CASS_PORT is already in use by another process (set ENGINES_CASSANDRA_PORT)"
  port_busy "$CASS_STORAGE_PORT" && die "port $CASS_STORAGE_PORT is already in use (set ENGINES_CASSANDRA_STORAGE_PORT)"
  [[ "${ENGINES_KEEP_DATA:-0}" == 1 ]] || rm -rf "$data"
  mkdir -p "$data"/{data,commitlog,saved_caches,hints,cdc_raw} "$dir/triggers"
  sed -e "s|@CASS_DATA@|$data|g" \
      -e "s|@CASS_NATIVE_PORT@|$CASS_PORT|g" \
      -e "s|@CASS_STORAGE_PORT@|$CASS_STORAGE_PORT|g" \
      "$CONF_SRC/cassandra.yaml.tmpl" >"$yaml"
  local jvm=() line jamm
  while IFS= read -r line; do
    line="${line%%#*}"; line="${line#"${line%%[![:space:]]*}"}"; line="${line%"${line##*[![:space:]]}"}"
    [[ -z "$line" ]] && continue
    # shellcheck disable=SC2206  # "--add-opens x=y" is two words on purpose
    jvm+=($line)
  done <"$CONF_SRC/jvm17.options"
  for jamm in "$CASS_LIB"/jamm-*.jar; do  # Cassandra's memory-measuring agent
    [[ -f "$jamm" ]] && jvm+=("-javaagent:$jamm")
    break
  done
  jvm+=("-Xms$CASS_HEAP" "-Xmx$CASS_HEAP"
    "-XX:OnOutOfMemoryError=kill -9 %p"
    -XX:CICompilerCount=2
    "-Dcassandra.config=file://$yaml"
    "-Dcassandra.storagedir=$data"
    "-Dcassandra.logdir=$dir"
    "-Dcassandra.triggers_dir=$dir/triggers"
    "-Dlogback.configurationFile=$CONF_SRC/cassandra-logback.xml"
    -Dcassandra-foreground=yes
    "-Dcassandra-pidfile=$dir/cassandra.pid"
    -Dcassandra.skip_wait_for_gossip_to_settle=0
    -Dcassandra.ring_delay_ms=0
    -Dcassandra.superuser_setup_delay_ms=0
    -Dcassandra.load_ring_state=false
    -Dcassandra.initial_token=0
    -Dcassandra.auto_bootstrap=false
    -Dcassandra.skip_schema_check=true
    -Dcassandra.skip_sync=true
    "-Djava.library.path=$CASS_LIB")
  if [[ -n "$CASS_JMX_PORT" ]]; then
    jvm+=("-Dcassandra.jmx.local.port=$CASS_JMX_PORT" -Dcom.sun.management.jmxremote.authenticate=false)
  fi
  : >"$RUN/cassandra.log"
  MALLOC_ARENA_MAX=4 nohup "$JAVA" "${jvm[@]}" -cp "$CASS_LIB/*" \
    org.apache.cassandra.service.CassandraDaemon \
    </dev/null >>"$RUN/cassandra.log" 2>&1 &
  echo $! >"$RUN/cassandra.pid"
  log "cassandra: started pid $! (log $RUN/cassandra.log)"
}

ping_cassandra() {
  if command -v node >/dev/null; then
    node "$CONF_SRC/cql-ping.mjs" 127.0.0.1 "$CASS_PORT" 3000 2>/dev/null
  else
    port_busy "$CASS_PORT" && grep -q 'Startup complete' "$RUN/cassandra.log" && echo "port open"
  fi
}

# ---------------------------------------------------------------- waiting

# wait_for NAME TIMEOUT START_TS: poll until the engine answers; on failure show its log.
wait_for() {
  local name="$1" timeout="$2" t0="$3" out deadline
  deadline=$(( $(date +%s) + timeout ))
  while :; do
    if out="$("ping_$name" --warm)"; then
      log "$name: up after $(since "$t0")s: $out (RSS $(rss_of "$name"))"
      return 0
    fi
    if ! is_up "$name"; then
      show_log_tail "$name"
      die "$name exited during start-up (log: $RUN/$name.log)"
    fi
    if (( $(date +%s) >= deadline )); then
      show_log_tail "$name"
      stop_one "$name"
      die "$name did not answer within ${timeout}s (log: $RUN/$name.log)"
    fi
    sleep 1
  done
}

# ---------------------------------------------------------------- commands

cmd_fetch() {
  want kafka && fetch_one kafka
  want cassandra && fetch_one cassandra
  return 0
}

cmd_start() {
  command -v "$JAVA" >/dev/null || die "java not found (Java 17 needed)"
  mkdir -p "$RUN"
  cmd_fetch
  local tk="" tc=""
  # Cassandra takes longest, so it is launched first; both JVMs then boot in parallel.
  if want cassandra; then
    if is_up cassandra; then log "cassandra: already running (pid $(pid_of cassandra))"
    else tc="$(now)"; launch_cassandra; fi
  fi
  if want kafka; then
    if is_up kafka; then log "kafka: already running (pid $(pid_of kafka))"
    else tk="$(now)"; launch_kafka; fi
  fi
  want kafka && wait_for kafka "$KAFKA_TIMEOUT" "${tk:-$(now)}"
  want cassandra && wait_for cassandra "$CASS_TIMEOUT" "${tc:-$(now)}"
  print_env
}

cmd_stop() {
  # Stop whatever is running, regardless of $ENGINES.
  stop_one kafka
  stop_one cassandra
}

cmd_status() {
  local rc=0 name port out
  for name in kafka cassandra; do
    want "$name" || continue
    if [[ "$name" == kafka ]]; then port="$KAFKA_PORT"; else port="$CASS_PORT"; fi
    if is_up "$name"; then
      if out="$("ping_$name")"; then
        echo "$name: up (pid $(pid_of "$name"), 127.0.0.1:$port, RSS $(rss_of "$name")): $out"
      else
        echo "$name: starting or unhealthy (pid $(pid_of "$name"), 127.0.0.1:$port not answering)"; rc=3
      fi
    else
      echo "$name: down"; rc=3
    fi
  done
  return "$rc"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) print_env ;;
  fetch) cmd_fetch ;;
  logs) tail -n "${3:-100}" "$RUN/${2:-cassandra}.log" ;;
  *) echo "usage: $0 start|stop|status|env|fetch|logs [kafka|cassandra]" >&2; exit 2 ;;
esac
