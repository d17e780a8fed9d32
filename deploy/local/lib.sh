# shellcheck shell=bash
# Common settings and helpers for deploy/local/*.sh. Sourced, not run.

LOCAL_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$LOCAL_DIR/../.." && pwd)"

KAFKA_VERSION="${KAFKA_VERSION:-4.1.1}"
STATE_DIR="${RECO_STATE_DIR:-$REPO_ROOT/.state}"
CACHE_DIR="${RECO_CACHE_DIR:-$REPO_ROOT/.cache}"

KAFKA_HOST=127.0.0.1
KAFKA_PORT="${RECO_KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${RECO_KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_LIBS="$CACHE_DIR/kafka/$KAFKA_VERSION/libs"
KAFKA_STATE="$STATE_DIR/kafka"
KAFKA_DATA="$KAFKA_STATE/data"
KAFKA_LOGS="$KAFKA_STATE/logs"
KAFKA_PID="$KAFKA_STATE/kafka.pid"
KAFKA_CONF="$KAFKA_STATE/server.properties"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-120}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx1g}"

REDIS_HOST=127.0.0.1
REDIS_PORT=6379
REDIS_STATE="$STATE_DIR/redis"
REDIS_PID="$REDIS_STATE/redis.pid"
REDIS_CONF="$REDIS_STATE/redis.conf"
REDIS_LOG="$REDIS_STATE/redis.log"
REDIS_START_TIMEOUT="${REDIS_START_TIMEOUT:-20}"

log() { printf '[infra] %s\n' "$*" >&2; }
die() { printf '[infra] ERROR: %s\n' "$*" >&2; exit 1; }

# true when something accepts TCP connections on host:port
port_open() {
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# true when pid is alive and its command line contains every further argument
pid_matches() {
  local pid="$1"; shift
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [ -r "/proc/$pid/cmdline" ] || return 1
  local cmd; cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
  local s
  for s in "$@"; do [[ "$cmd" == *"$s"* ]] || return 1; done
}

read_pid() { [ -s "$1" ] && tr -dc '0-9' <"$1"; }

_APT_UPDATED=0
apt_install() {
  command -v apt-get >/dev/null || die "apt-get not found; install $* by hand"
  [ "$(id -u)" = 0 ] || die "need root to apt-get install $*"
  if [ "$_APT_UPDATED" = 0 ]; then
    log "apt-get update"
    mkdir -p "$STATE_DIR"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>"$STATE_DIR/apt-update.log" || { cat "$STATE_DIR/apt-update.log" >&2; die "apt-get update failed"; }
    _APT_UPDATED=1
  fi
  # keep apt from starting system services (e.g. the distribution's redis-server)
  local made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && made_policy=1
  fi
  log "apt-get install -y $*"
  local rc=0
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >"$STATE_DIR/apt-install.log" 2>&1 || rc=$?
  [ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
  [ "$rc" = 0 ] || { tail -n 20 "$STATE_DIR/apt-install.log" >&2; die "apt-get install $* failed (log: $STATE_DIR/apt-install.log)"; }
}

ensure_java() {
  if ! command -v java >/dev/null; then
    apt_install openjdk-17-jre-headless
  fi
  local v
  v="$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)"
  [ -n "$v" ] && [ "$v" -ge 17 ] || die "Kafka $KAFKA_VERSION needs Java 17+, found: $(java -version 2>&1 | head -1)"
}

# Resolve the Kafka jars from Maven Central into $KAFKA_LIBS (once; marker file).
ensure_kafka_jars() {
  local pom="$LOCAL_DIR/kafka/pom.xml"
  local want; want="kafka=$KAFKA_VERSION pom=$(sha256sum "$pom" | cut -c1-16)"
  if [ -f "$KAFKA_LIBS/.resolved" ] && [ "$(cat "$KAFKA_LIBS/.resolved")" = "$want" ]; then
    return 0
  fi
  ensure_java
  command -v mvn >/dev/null || apt_install maven
  log "resolving Kafka $KAFKA_VERSION jars from Maven Central into $KAFKA_LIBS"
  local tmp="$KAFKA_LIBS.tmp.$$"
  rm -rf "$tmp"; mkdir -p "$tmp"
  if ! mvn -q -B -Dstyle.color=never -f "$pom" -Dkafka.version="$KAFKA_VERSION" \
      dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" >"$tmp.log" 2>&1; then
    tail -n 30 "$tmp.log" >&2
    rm -rf "$tmp"
    die "mvn dependency:copy-dependencies failed (full log: $tmp.log)"
  fi
  rm -f "$tmp.log"
  ls "$tmp"/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null 2>&1 || die "resolution produced no kafka_2.13-$KAFKA_VERSION.jar"
  echo "$want" >"$tmp/.resolved"
  rm -rf "$KAFKA_LIBS"
  mv "$tmp" "$KAFKA_LIBS"
  log "resolved $(find "$KAFKA_LIBS" -name '*.jar' | wc -l) jars"
}
