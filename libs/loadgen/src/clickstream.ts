import {
  CONTENT_TYPE_JSON,
  CONTENT_TYPE_PROTOBUF,
  ClickstreamEvent,
  EventType,
  eventTypeToJSON,
} from '@reco/contracts';
import { seededRandom } from './random';

/** One message for the raw clickstream topic, with what the generator meant it to be. */
export interface GeneratedMessage {
  key: string;
  value: Buffer;
  headers: Record<string, string>;
  kind: 'valid' | 'duplicate' | 'malformed';
  /** For valid and duplicate messages. */
  eventId?: string;
  rawUserId?: string;
  /** For malformed messages: the reason and field ingest must report. */
  expectedReason?: string;
  expectedField?: string;
}

export interface ClickstreamOptions {
  count: number;
  users: number;
  items: number;
  seed: number;
  /** Share of malformed messages, cycling through one of each validation rule. */
  malformedShare?: number;
  /** Share of exact repeats of an earlier valid event. */
  duplicateShare?: number;
  format?: 'json' | 'protobuf' | 'mixed';
  /** Event time of the first event; later ones advance by a few ms each. */
  startTime?: number;
  eventIdPrefix?: string;
}

const TYPES: [EventType, number][] = [
  [EventType.EVENT_TYPE_VIEW, 0.55],
  [EventType.EVENT_TYPE_CLICK, 0.25],
  [EventType.EVENT_TYPE_ADD_TO_CART, 0.08],
  [EventType.EVENT_TYPE_PURCHASE, 0.04],
  [EventType.EVENT_TYPE_SEARCH, 0.08],
];

/** One malformed message per validation rule ingest enforces. */
export const MALFORMED_CASES: {
  reason: string;
  field: string;
  make: (valid: Record<string, unknown>) => { value: Buffer; contentType: string };
}[] = [
  { reason: 'missing_field', field: 'event_id', make: (v) => json({ ...v, event_id: undefined }) },
  { reason: 'missing_field', field: 'user_id', make: (v) => json({ ...v, user_id: '' }) },
  {
    reason: 'missing_field',
    field: 'item_id',
    make: (v) => json({ ...v, type: 'EVENT_TYPE_VIEW', item_id: undefined }),
  },
  {
    reason: 'missing_field',
    field: 'query',
    make: (v) => json({ ...v, type: 'EVENT_TYPE_SEARCH', query: '  ' }),
  },
  { reason: 'missing_field', field: 'timestamp', make: (v) => json({ ...v, timestamp: undefined }) },
  { reason: 'invalid_enum', field: 'type', make: (v) => json({ ...v, type: 'EVENT_TYPE_TELEPORT' }) },
  { reason: 'invalid_type', field: 'user_id', make: (v) => json({ ...v, user_id: 12345 }) },
  { reason: 'invalid_type', field: 'timestamp', make: (v) => json({ ...v, timestamp: 'yesterday' }) },
  { reason: 'unknown_field', field: 'itemid', make: (v) => json({ ...v, itemid: 'x' }) },
  { reason: 'too_long', field: 'item_id', make: (v) => json({ ...v, item_id: 'i'.repeat(200) }) },
  { reason: 'invalid_chars', field: 'session_id', make: (v) => json({ ...v, session_id: 'has space' }) },
  { reason: 'not_finite', field: 'price', make: (v) => json({ ...v, price: 'NaN' }) },
  { reason: 'negative', field: 'price', make: (v) => json({ ...v, price: -3 }) },
  {
    reason: 'out_of_range',
    field: 'quantity',
    make: (v) => json({ ...v, type: 'EVENT_TYPE_PURCHASE', item_id: v.item_id ?? 'item-1', quantity: 50000 }),
  },
  {
    reason: 'timestamp_in_future',
    field: 'timestamp',
    make: (v) => json({ ...v, timestamp: new Date(Date.now() + 86400_000).toISOString() }),
  },
  {
    reason: 'timestamp_too_old',
    field: 'timestamp',
    make: (v) => json({ ...v, timestamp: '2001-01-01T00:00:00Z' }),
  },
  {
    reason: 'unsupported_schema_version',
    field: 'schema_version',
    make: (v) => json({ ...v, schema_version: 'reco.v9' }),
  },
  {
    reason: 'malformed_json',
    field: '',
    make: () => ({ value: Buffer.from('{"event_id": "abc",'), contentType: CONTENT_TYPE_JSON }),
  },
  {
    reason: 'malformed_protobuf',
    field: '',
    make: () => ({ value: Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f]), contentType: CONTENT_TYPE_PROTOBUF }),
  },
  { reason: 'unsupported_content_type', field: '', make: (v) => ({ ...json(v), contentType: 'text/csv' }) },
];

function json(obj: Record<string, unknown>): { value: Buffer; contentType: string } {
  return { value: Buffer.from(JSON.stringify(obj)), contentType: CONTENT_TYPE_JSON };
}

function pick<T>(rand: () => number, weighted: [T, number][]): T {
  let r = rand();
  for (const [v, w] of weighted) {
    if ((r -= w) < 0) return v;
  }
  return weighted[weighted.length - 1]![0];
}

/** A valid event as a proto3 JSON object (snake_case names, as a producer might send). */
export function validEventJson(
  rand: () => number,
  eventId: string,
  userId: string,
  items: number,
  time: number,
): Record<string, unknown> {
  const type = pick(rand, TYPES);
  const base: Record<string, unknown> = {
    event_id: eventId,
    type: eventTypeToJSON(type),
    user_id: userId,
    session_id: `s-${userId}-${Math.floor(time / 1_800_000)}`,
    timestamp: new Date(time).toISOString(),
    context: { device: rand() < 0.6 ? 'mobile' : 'desktop', page: 'home', referrer: '' },
  };
  if (type === EventType.EVENT_TYPE_SEARCH) base.query = `query ${Math.floor(rand() * 200)}`;
  else base.item_id = `item-${Math.floor(rand() ** 2 * items)}`;
  if (type === EventType.EVENT_TYPE_ADD_TO_CART || type === EventType.EVENT_TYPE_PURCHASE) {
    base.quantity = 1 + Math.floor(rand() * 3);
    base.price = Math.round(rand() * 10000) / 100;
  }
  return base;
}

/**
 * A deterministic synthetic clickstream. Messages are keyed by raw user id (as producers
 * must key them), so one user's events stay in order on one partition.
 */
export function* generateClickstream(options: ClickstreamOptions): Generator<GeneratedMessage> {
  const rand = seededRandom(options.seed);
  const malformedShare = options.malformedShare ?? 0;
  const duplicateShare = options.duplicateShare ?? 0;
  const format = options.format ?? 'json';
  const prefix = options.eventIdPrefix ?? `e${options.seed}-`;
  let time = options.startTime ?? Date.now() - 3600_000;
  let malformedIndex = 0;
  const recentValid: GeneratedMessage[] = [];
  let nextId = 0;
  for (let n = 0; n < options.count; n++) {
    time += 1 + Math.floor(rand() * 5);
    const userId = `u${Math.floor(rand() * options.users)}`;
    const r = rand();
    if (r < malformedShare) {
      const c = MALFORMED_CASES[malformedIndex++ % MALFORMED_CASES.length]!;
      const made = c.make(validEventJson(rand, `${prefix}bad${n}`, userId, options.items, time));
      yield {
        key: userId,
        value: made.value,
        headers: { 'content-type': made.contentType },
        kind: 'malformed',
        expectedReason: c.reason,
        expectedField: c.field,
      };
      continue;
    }
    if (r < malformedShare + duplicateShare && recentValid.length > 0) {
      const original = recentValid[Math.floor(rand() * recentValid.length)]!;
      yield { ...original, kind: 'duplicate' };
      continue;
    }
    const event = validEventJson(rand, `${prefix}${nextId++}`, userId, options.items, time);
    const asProtobuf = format === 'protobuf' || (format === 'mixed' && rand() < 0.5);
    const value = asProtobuf
      ? Buffer.from(ClickstreamEvent.encode(ClickstreamEvent.fromJSON(event)).finish())
      : Buffer.from(JSON.stringify(event));
    const message: GeneratedMessage = {
      key: userId,
      value,
      headers: { 'content-type': asProtobuf ? CONTENT_TYPE_PROTOBUF : CONTENT_TYPE_JSON },
      kind: 'valid',
      eventId: event.event_id as string,
      rawUserId: userId,
    };
    recentValid.push(message);
    if (recentValid.length > 1000) recentValid.shift();
    yield message;
  }
}
