#!/usr/bin/env bash
# Run any class from the cached Kafka jars (resolved from Maven Central on first use).
#   deploy/local/kafka-run-class.sh CLASS [ARGS...]
# e.g. deploy/local/kafka-run-class.sh org.apache.kafka.tools.ProducerPerformance \
#        --topic bench --num-records 200000 --record-size 200 --throughput -1 \
#        --producer-props bootstrap.servers=127.0.0.1:9092
# Env: KAFKA_VERSION, RECO_CACHE_DIR, KAFKA_TOOLS_HEAP_OPTS (default -Xmx512m),
#      KAFKA_TOOLS_OPTS (extra JVM options, e.g. a different -Dlog4j2.configurationFile).
set -euo pipefail
# shellcheck source=deploy/local/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[ $# -ge 1 ] || { echo "usage: $0 CLASS [ARGS...]" >&2; exit 2; }
ensure_java
ensure_kafka_jars
# shellcheck disable=SC2086
exec java ${KAFKA_TOOLS_HEAP_OPTS:--Xmx512m} -Djava.awt.headless=true \
  -Dlog4j2.configurationFile="$LOCAL_DIR/kafka/log4j2-tools.properties" \
  ${KAFKA_TOOLS_OPTS:-} -cp "$KAFKA_LIBS/*" "$@"
