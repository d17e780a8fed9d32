import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClickstreamEvent, EventType } from '@reco/contracts';
import { MALFORMED_CASES, seededRandom, validEventJson } from '@reco/loadgen';
import {
  decodeClickstreamEvent,
  normalizeClickstreamEvent,
  validateClickstreamEvent,
} from './clickstream-event';
import { DEFAULT_LIMITS } from './limits';

const NOW = Date.parse('2026-11-28T12:00:00Z');
const base = {
  event_id: 'e-1',
  type: 'EVENT_TYPE_ADD_TO_CART',
  user_id: 'alice',
  session_id: 's-1',
  item_id: 'sku-42',
  quantity: 2,
  price: 19.99,
  timestamp: '2026-11-28T11:59:00Z',
  context: { device: 'mobile', page: 'pdp', referrer: 'https://shop.example/' },
};

function verdict(obj: unknown, contentType = 'application/json') {
  const decoded = decodeClickstreamEvent(Buffer.from(JSON.stringify(obj)), contentType, DEFAULT_LIMITS);
  if (!decoded.ok) return decoded.rejection;
  return validateClickstreamEvent(decoded.value, NOW, DEFAULT_LIMITS) ?? 'valid';
}

test('a complete event is valid', () => {
  assert.equal(verdict(base), 'valid');
});

test('JSON (snake_case or lowerCamelCase) and binary protobuf decode to the same event', () => {
  const fromSnake = decodeClickstreamEvent(
    Buffer.from(JSON.stringify(base)),
    'application/json',
    DEFAULT_LIMITS,
  );
  const camel = { ...base, eventId: 'e-1', userId: 'alice', sessionId: 's-1', itemId: 'sku-42' } as Record<
    string,
    unknown
  >;
  for (const k of ['event_id', 'user_id', 'session_id', 'item_id']) delete camel[k];
  const fromCamel = decodeClickstreamEvent(
    Buffer.from(JSON.stringify(camel)),
    'application/json',
    DEFAULT_LIMITS,
  );
  assert.ok(fromSnake.ok && fromCamel.ok);
  const binary = Buffer.from(ClickstreamEvent.encode(fromSnake.value).finish());
  const fromBinary = decodeClickstreamEvent(binary, 'application/x-protobuf', DEFAULT_LIMITS);
  assert.ok(fromBinary.ok);
  assert.deepEqual(fromBinary.value, fromSnake.value);
  assert.deepEqual(fromCamel.value, fromSnake.value);
  assert.equal(fromSnake.value.type, EventType.EVENT_TYPE_ADD_TO_CART);
  assert.equal(fromSnake.value.timestamp?.toISOString(), '2026-11-28T11:59:00.000Z');
});

test('a missing content-type header means JSON; parameters after ; are ignored', () => {
  const v = decodeClickstreamEvent(Buffer.from(JSON.stringify(base)), undefined, DEFAULT_LIMITS);
  assert.ok(v.ok);
  const w = decodeClickstreamEvent(
    Buffer.from(JSON.stringify(base)),
    'application/json; charset=utf-8',
    DEFAULT_LIMITS,
  );
  assert.ok(w.ok);
});

test('short lowercase type names are accepted besides the canonical enum names', () => {
  assert.equal(verdict({ ...base, type: 'add_to_cart' }), 'valid');
  assert.equal(verdict({ ...base, type: 3 }), 'valid');
});

const cases: [string, unknown, string, string][] = [
  ['event_id missing', { ...base, event_id: undefined }, 'missing_field', 'event_id'],
  ['event_id with a space', { ...base, event_id: 'a b' }, 'invalid_chars', 'event_id'],
  ['event_id too long', { ...base, event_id: 'x'.repeat(129) }, 'too_long', 'event_id'],
  ['type missing', { ...base, type: undefined }, 'missing_field', 'type'],
  ['type unknown', { ...base, type: 'EVENT_TYPE_HOVER' }, 'invalid_enum', 'type'],
  ['type unknown number', { ...base, type: 42 }, 'invalid_enum', 'type'],
  ['user_id missing', { ...base, user_id: '' }, 'missing_field', 'user_id'],
  ['user_id a number', { ...base, user_id: 7 }, 'invalid_type', 'user_id'],
  ['item_id missing for a view', { ...base, type: 'view', item_id: undefined }, 'missing_field', 'item_id'],
  ['query missing for a search', { ...base, type: 'search', item_id: undefined }, 'missing_field', 'query'],
  ['query with control chars', { ...base, type: 'search', query: 'a\u0001b' }, 'invalid_chars', 'query'],
  ['query too long', { ...base, type: 'search', query: 'q'.repeat(513) }, 'too_long', 'query'],
  ['quantity negative', { ...base, quantity: -1 }, 'negative', 'quantity'],
  ['quantity huge', { ...base, quantity: 10_001 }, 'out_of_range', 'quantity'],
  ['quantity a fraction', { ...base, quantity: 1.5 }, 'invalid_type', 'quantity'],
  ['price NaN', { ...base, price: 'NaN' }, 'not_finite', 'price'],
  ['price Infinity', { ...base, price: 'Infinity' }, 'not_finite', 'price'],
  ['price negative', { ...base, price: -0.5 }, 'negative', 'price'],
  ['price an object', { ...base, price: { amount: 1 } }, 'invalid_type', 'price'],
  ['timestamp missing', { ...base, timestamp: undefined }, 'missing_field', 'timestamp'],
  ['timestamp garbage', { ...base, timestamp: 'soon' }, 'invalid_type', 'timestamp'],
  [
    'timestamp a day ahead',
    { ...base, timestamp: '2026-11-29T12:00:00Z' },
    'timestamp_in_future',
    'timestamp',
  ],
  ['timestamp 31 days old', { ...base, timestamp: '2026-10-28T11:00:00Z' }, 'timestamp_too_old', 'timestamp'],
  ['context.page too long', { ...base, context: { page: 'p'.repeat(257) } }, 'too_long', 'context.page'],
  ['context.device a number', { ...base, context: { device: 1 } }, 'invalid_type', 'context.device'],
  ['unknown top-level field', { ...base, colour: 'red' }, 'unknown_field', 'colour'],
  [
    'schema version from the future',
    { ...base, schema_version: 'reco.v2' },
    'unsupported_schema_version',
    'schema_version',
  ],
  ['not an object', [1, 2], 'malformed_json', ''],
];

for (const [name, obj, reason, field] of cases) {
  test(`rule: ${name} → ${reason} on "${field}"`, () => {
    const r = verdict(obj);
    assert.notEqual(r, 'valid');
    assert.equal((r as { reason: string }).reason, reason);
    assert.equal((r as { field: string }).field, field);
  });
}

test('undecodable bytes and unknown content types are rejected, naming the cause', () => {
  const j = decodeClickstreamEvent(Buffer.from('{"event_id":'), 'application/json', DEFAULT_LIMITS);
  assert.ok(!j.ok && j.rejection.reason === 'malformed_json');
  const p = decodeClickstreamEvent(Buffer.from([0x0a, 0xff, 0xff]), 'application/x-protobuf', DEFAULT_LIMITS);
  assert.ok(!p.ok && p.rejection.reason === 'malformed_protobuf');
  const c = decodeClickstreamEvent(Buffer.from('{}'), 'text/csv', DEFAULT_LIMITS);
  assert.ok(!c.ok && c.rejection.reason === 'unsupported_content_type');
  const e = decodeClickstreamEvent(Buffer.alloc(0), 'application/json', DEFAULT_LIMITS);
  assert.ok(!e.ok);
});

test('unknown JSON fields pass when allowed by configuration', () => {
  const v = decodeClickstreamEvent(
    Buffer.from(JSON.stringify({ ...base, colour: 'red' })),
    'application/json',
    {
      allowUnknownJsonFields: true,
    },
  );
  assert.ok(v.ok);
});

test('every malformed case of the load generator gets the reason and field it promises', () => {
  const rand = seededRandom(3);
  // Many base events, so each case meets every event type the generator makes.
  for (let i = 0; i < 50; i++) {
    for (const c of MALFORMED_CASES) {
      const made = c.make(validEventJson(rand, 'e-x', 'bob', 100, Date.now() - 1000));
      const decoded = decodeClickstreamEvent(made.value, made.contentType, DEFAULT_LIMITS);
      const r = decoded.ok
        ? validateClickstreamEvent(decoded.value, Date.now(), DEFAULT_LIMITS)
        : decoded.rejection;
      assert.ok(r, `case ${c.reason}/${c.field} was accepted`);
      assert.deepEqual([r.reason, r.field], [c.reason, c.field]);
    }
  }
});

test('normalization pseudonymizes, fills quantity and schema version, trims the query', () => {
  const decoded = decodeClickstreamEvent(
    Buffer.from(JSON.stringify({ ...base, quantity: undefined, type: 'purchase' })),
    undefined,
    DEFAULT_LIMITS,
  );
  assert.ok(decoded.ok);
  const clean = normalizeClickstreamEvent(decoded.value, 'p'.repeat(32));
  assert.equal(clean.userId, 'p'.repeat(32));
  assert.equal(clean.quantity, 1);
  assert.equal(clean.schemaVersion, 'reco.v1');
  const search = normalizeClickstreamEvent(
    { ...decoded.value, type: EventType.EVENT_TYPE_SEARCH, query: '  red shoes ' },
    'x',
  );
  assert.equal(search.query, 'red shoes');
});
