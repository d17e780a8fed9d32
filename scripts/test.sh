#!/usr/bin/env bash
# The test command: sets up (idempotent; quick when already done), starts the local Kafka
# and Redis, checks lint and format, then runs every package's unit and integration tests
# against the real servers in one node:test run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh

echo "[test] lint and format" >&2
pnpm run lint >&2

export KAFKA_BROKERS="${KAFKA_BROKERS:-127.0.0.1:9092}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"

dirs=()
for d in libs/* services/*; do
  [ -f "$d/package.json" ] && dirs+=("$d")
done
echo "[test] unit and integration tests in: ${dirs[*]}" >&2
node scripts/run-node-tests.mjs all "${dirs[@]}"
