#!/usr/bin/env bash
# The main job on a fresh machine: set everything up (scripts/setup.sh), then run the demo
# against the local Kafka and Redis.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
node tools/demo/dist/main.js "$@"
