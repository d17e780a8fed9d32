/**
 * Every Kafka topic of the system, declared once. Services create the topics they touch
 * idempotently at start-up from this table; docs/topics.md is written from it
 * (`pnpm --filter @reco/contracts docs:topics`).
 */
export interface TopicSpec {
  /** Full topic name; the trailing `.v1` is the schema version of its values. */
  name: string;
  key: string;
  value: string;
  /** Default partition count; `RECO_TOPIC_PARTITIONS` overrides it for every topic. */
  partitions: number;
  cleanupPolicy: 'delete' | 'compact';
  /** Retention in ms for `delete` topics; -1 keeps everything. */
  retentionMs: number;
  producedBy: string;
  consumedBy: string;
  notes: string;
  /**
   * The headers each record carries: `by producer` (raw topics: the producer's `content-type`
   * says how the value is encoded), `content-type` (`application/x-protobuf`), or `none` where
   * the value type is fixed and records are many (why: docs/topics.md).
   */
  headers: 'by producer' | 'content-type' | 'none';
}

const DAY_MS = 24 * 60 * 60 * 1000;

export const TOPICS = {
  clickstreamRaw: {
    name: 'reco.clickstream.raw.v1',
    key: 'raw user id (producers must key by user so that one user stays on one partition)',
    value:
      'reco.v1.ClickstreamEvent as proto3 JSON (header content-type: application/json, the default) or binary (application/x-protobuf)',
    partitions: 6,
    cleanupPolicy: 'delete',
    retentionMs: 7 * DAY_MS,
    producedBy: 'clickstream producers (web, app, backend)',
    consumedBy: 'ingest',
    notes: 'Untrusted input. Everything here is either republished clean or dead-lettered.',
    headers: 'by producer',
  },
  catalogRaw: {
    name: 'reco.catalog.raw.v1',
    key: 'item id',
    value: 'reco.v1.CatalogItem as proto3 JSON or binary, chosen by the content-type header',
    partitions: 3,
    cleanupPolicy: 'delete',
    retentionMs: 7 * DAY_MS,
    producedBy: 'catalog feeds',
    consumedBy: 'ingest',
    notes: 'Upserts; the newest message for an item wins.',
    headers: 'by producer',
  },
  eventsClean: {
    name: 'reco.events.clean.v1',
    key: 'pseudonymized user id (HMAC-SHA256, 32 hex chars)',
    value: 'reco.v1.ClickstreamEvent, binary protobuf, user_id pseudonymized',
    partitions: 6,
    cleanupPolicy: 'delete',
    retentionMs: -1,
    producedBy: 'ingest (transactional: read with isolation read_committed)',
    consumedBy: 'features, trainer (replay), feedback',
    notes:
      'The log of record: valid, unique events in per-user order. Kept forever so that the trainer can replay it.',
    headers: 'none',
  },
  catalog: {
    name: 'reco.catalog.v1',
    key: 'item id',
    value: 'reco.v1.CatalogItem, binary protobuf',
    partitions: 3,
    cleanupPolicy: 'compact',
    retentionMs: -1,
    producedBy: 'ingest',
    consumedBy: 'features, trainer, inference',
    notes: 'Compacted: the latest version of every item.',
    headers: 'content-type',
  },
  deadLetter: {
    name: 'reco.deadletter.v1',
    key: 'the original message key',
    value:
      'reco.v1.DeadLetter, binary protobuf (original bytes, source topic/partition/offset, reason, field)',
    partitions: 1,
    cleanupPolicy: 'delete',
    retentionMs: 30 * DAY_MS,
    producedBy: 'ingest',
    consumedBy: 'operators, replay tools',
    notes: 'Nothing invalid is dropped silently: it lands here with a machine-readable reason.',
    headers: 'content-type',
  },
  modelPublished: {
    name: 'reco.model.published.v1',
    key: 'model name',
    value: 'reco.v1.ModelPublished, binary protobuf',
    partitions: 1,
    cleanupPolicy: 'delete',
    retentionMs: -1,
    producedBy: 'trainer',
    consumedBy: 'features, inference, feedback',
    notes: 'One message per published version: the history of versions.',
    headers: 'content-type',
  },
  impressions: {
    name: 'reco.impressions.v1',
    key: 'pseudonymized user id',
    value: 'reco.v1.Impression, binary protobuf',
    partitions: 6,
    cleanupPolicy: 'delete',
    retentionMs: 30 * DAY_MS,
    producedBy: 'inference',
    consumedBy: 'feedback',
    notes: 'Sent asynchronously; never delays a response.',
    headers: 'none',
  },
  outcomes: {
    name: 'reco.feedback.outcomes.v1',
    key: 'pseudonymized user id',
    value:
      'reco.v1.Outcome, binary protobuf: impression request id, item, position, outcome (click, add_to_cart, purchase, skip), model version, arm',
    partitions: 6,
    cleanupPolicy: 'delete',
    retentionMs: 90 * DAY_MS,
    producedBy: 'feedback (at least once; outcome_id is deterministic, consumers drop repeats)',
    consumedBy: 'trainer',
    notes:
      'Labels joined from impressions and clean events inside the attribution window; skips are published when the window closes.',
    headers: 'content-type',
  },
} as const satisfies Record<string, TopicSpec>;

export type TopicId = keyof typeof TOPICS;

/** Message header naming the value's encoding on the raw topics. */
export const CONTENT_TYPE_HEADER = 'content-type';
export const CONTENT_TYPE_JSON = 'application/json';
export const CONTENT_TYPE_PROTOBUF = 'application/x-protobuf';

const PROTOBUF_RECORD_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  [CONTENT_TYPE_HEADER]: CONTENT_TYPE_PROTOBUF,
});
const NO_RECORD_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * The headers a record of `topic` carries, as its spec says (one frozen object per kind, so
 * producers share it); raw topics have none fixed: their producer names the encoding.
 */
export function recordHeaders(topic: TopicId): Readonly<Record<string, string>> {
  const kind = TOPICS[topic].headers;
  if (kind === 'by producer') throw new Error(`${TOPICS[topic].name}: its producer chooses the content-type`);
  return kind === 'none' ? NO_RECORD_HEADERS : PROTOBUF_RECORD_HEADERS;
}

/** Kafka topic configs for a spec, as CreateTopics takes them. */
export function topicConfigEntries(spec: TopicSpec): { name: string; value: string }[] {
  const entries: { name: string; value: string }[] = [{ name: 'cleanup.policy', value: spec.cleanupPolicy }];
  if (spec.cleanupPolicy === 'delete')
    entries.push({ name: 'retention.ms', value: String(spec.retentionMs) });
  return entries;
}

/**
 * Topic names with an optional prefix: tests give each run its own prefix so they can run
 * in parallel and rerun without cleanup.
 */
export function topicNames(prefix = ''): Record<TopicId, string> {
  const out = {} as Record<TopicId, string>;
  for (const id of Object.keys(TOPICS) as TopicId[]) out[id] = prefix + TOPICS[id].name;
  return out;
}
