#!/usr/bin/env bash
# Stops what the main job left running: the services of demo runs (pid files under
# .state/demo/*/pids), then the local Kafka and Redis.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
for pidfile in .state/demo/*/pids/*.pid; do
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    echo "stopping $(basename "$pidfile" .pid) (pid $pid)"
    kill -TERM "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  rm -f "$pidfile"
done
bash deploy/local/infra.sh stop
