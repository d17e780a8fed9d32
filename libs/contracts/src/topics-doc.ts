import { TOPICS, type TopicSpec } from './topics';

const retention = (spec: TopicSpec) =>
  spec.cleanupPolicy === 'compact'
    ? 'compacted'
    : spec.retentionMs < 0
      ? 'delete, kept forever'
      : `delete, ${Math.round(spec.retentionMs / 86_400_000)} days`;

/** docs/topics.md, written from the registry so the two cannot drift apart. */
export function renderTopicsDoc(): string {
  const lines = [
    '# Kafka topics',
    '',
    'Generated from `libs/contracts/src/topics.ts` by `pnpm --filter @reco/contracts docs:topics`;',
    'a unit test fails when this file and the registry differ. Services create the topics they use',
    'idempotently at start-up (`ensureTopics`), with the partition count below unless',
    '`RECO_TOPIC_PARTITIONS` overrides it, and `KAFKA_REPLICATION_FACTOR` replicas. Every name ends',
    'in the schema version of its values (`.v1` = proto package `reco.v1`). `RECO_TOPIC_PREFIX`',
    'prefixes every name (tests use one prefix per run).',
    '',
    '| topic | key | value | headers | partitions | retention | produced by | consumed by |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const spec of Object.values(TOPICS) as TopicSpec[]) {
    lines.push(
      `| \`${spec.name}\` | ${spec.key} | ${spec.value} | ${spec.headers} | ${spec.partitions} | ${retention(spec)} | ${spec.producedBy} | ${spec.consumedBy} |`,
    );
  }
  lines.push('', '## Notes', '');
  for (const spec of Object.values(TOPICS) as TopicSpec[]) lines.push(`- \`${spec.name}\`: ${spec.notes}`);
  lines.push(
    '',
    '## Broker',
    '',
    'Locally and in CI: Apache Kafka 4.1.1 in KRaft mode, one node (`deploy/local/`), with every',
    'internal topic at replication factor 1 (`offsets.topic.replication.factor`,',
    '`transaction.state.log.replication.factor`, `transaction.state.log.min.isr`): without that a',
    'single node never elects a group or transaction coordinator (tulios/kafkajs#1752). kafkajs',
    '2.2.4 works against it, consumer groups and transactions included (tested by the ingest',
    'integration tests), so the 3.9 fallback was not needed.',
    '',
    '## Headers',
    '',
    'The table\'s "headers" column is the registry\'s `headers`; producers take them from',
    '`recordHeaders(topic)`.',
    '',
    '- `by producer`: `content-type` is `application/json` (proto3 JSON mapping; the default when',
    '  absent) or `application/x-protobuf`, as the producer encoded the value.',
    '- `content-type`: always `application/x-protobuf`.',
    '- `none`: topics whose value type is fixed and whose records are many (one per event, one per',
    '  answer). A `content-type` header made a clean record 36 bytes (about a fifth) larger and',
    '  cost ingest about 8% of its CPU per event (docs/benchmarks.md, Ingest, 2026-12-02',
    '  16:42–16:50). Their consumers decode the value as protobuf without looking.',
    '- `x-reject-reason`, `x-reject-field` on dead letters (the same as in the value).',
    '',
  );
  return lines.join('\n');
}
