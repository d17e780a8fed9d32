#!/usr/bin/env bash
# Sets up a fresh machine for this project, idempotently: pnpm (pinned), the workspace's
# dependencies (pinned in pnpm-lock.yaml), native TensorFlow, a build of every package, and
# the local Kafka broker and Redis server (deploy/local). Everything comes from registries.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PNPM_VERSION=12.4.2
log() { printf '[setup] %s\n' "$*" >&2; }

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  log "Node.js >= 20.19 is required (found: $(node --version 2>/dev/null || echo none))"
  exit 1
fi

if [ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]; then
  log "installing pnpm $PNPM_VERSION from the npm registry"
  npm install --global --no-fund --no-audit "pnpm@$PNPM_VERSION" >&2
fi

# Native addons (hnswlib-node, tfjs-node) compile against the Node headers already on the
# machine; node-gyp must not try to download them.
if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node_api.h ]; then
  export npm_config_nodedir=/usr
fi

log "installing workspace dependencies (frozen lockfile)"
pnpm install --frozen-lockfile >&2

if [ -f libs/tf-native/package.json ]; then
  log "providing native TensorFlow for tfjs-node (libs/tf-native)"
  pnpm --filter @reco/tf-native run setup >&2
fi

# The dashboard's browser test drives Debian's Chromium (never a browser download of a test tool).
if ! command -v chromium >/dev/null 2>&1; then
  log "installing Debian's chromium for the dashboard test"
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >&2
  else
    (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >&2
  fi
fi

log "building every package"
pnpm run build >&2

if [ "${RECO_SKIP_INFRA:-0}" != "1" ]; then
  log "starting local Kafka and Redis"
  bash deploy/local/infra.sh start >&2
fi
log "done"
