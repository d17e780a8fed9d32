import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClickstreamEvent, EventType } from '@reco/contracts';
import { generateClickstream } from '@reco/loadgen';
import { CleanEventWriter } from './clean-event-writer';
import { decodeClickstreamEvent, normalizeClickstreamEvent } from './domain/clickstream-event';
import { DEFAULT_LIMITS } from './domain/limits';

const PSEUDONYM = '0123456789abcdef0123456789abcdef';

/** What the generated encoder writes for the normalized event. */
const expected = (e: ClickstreamEvent, pseudonym = PSEUDONYM) =>
  Buffer.from(ClickstreamEvent.encode(normalizeClickstreamEvent(e, pseudonym)).finish());

const event = (fields: Partial<ClickstreamEvent>): ClickstreamEvent => ({
  ...ClickstreamEvent.fromJSON({}),
  eventId: 'e-1',
  type: EventType.EVENT_TYPE_CLICK,
  userId: 'u1',
  itemId: 'item-1',
  timestamp: new Date('2026-11-28T11:59:00.123Z'),
  ...fields,
});

test('the writer gives the generated encoder’s bytes for generated JSON and protobuf events', () => {
  const writer = new CleanEventWriter();
  for (const format of ['json', 'protobuf'] as const) {
    for (const m of generateClickstream({ count: 5000, users: 300, items: 500, seed: 11, format })) {
      const decoded = decodeClickstreamEvent(m.value, m.headers['content-type'], DEFAULT_LIMITS);
      assert.ok(decoded.ok);
      assert.deepEqual(writer.encode(decoded.value, PSEUDONYM), expected(decoded.value));
    }
  }
});

test('the writer gives the generated encoder’s bytes for edge cases', () => {
  const writer = new CleanEventWriter();
  const long = (n: number, s: string) => s.repeat(Math.ceil(n / s.length)).slice(0, n);
  const cases: ClickstreamEvent[] = [
    event({}),
    event({ type: EventType.EVENT_TYPE_PURCHASE, quantity: 0, price: 0 }), // quantity 0 → 1
    event({ type: EventType.EVENT_TYPE_ADD_TO_CART, quantity: 10_000, price: 1e7 - 0.01 }),
    event({ type: EventType.EVENT_TYPE_VIEW, quantity: 3, price: -0 }),
    event({ type: EventType.EVENT_TYPE_SEARCH, itemId: '', query: '  red shoes \t' }),
    event({ type: EventType.EVENT_TYPE_SEARCH, itemId: '', query: 'ünïcödé 👟 \ud800 lone' }),
    event({ query: long(512, 'é') }), // 1,024 bytes: a two-byte length
    event({ timestamp: undefined }),
    event({ timestamp: new Date(0) }), // empty Timestamp
    event({ timestamp: new Date(999) }), // nanos only
    event({ timestamp: new Date(5000) }), // seconds only
    event({ timestamp: new Date(-1500) }), // before 1970: generic path
    event({ timestamp: new Date(8.64e15) }),
    event({ context: { device: '', page: '', referrer: '' } }), // empty but set
    event({ context: { device: 'mobile', page: 'pdp', referrer: '' } }),
    event({ context: { device: 'tv', page: long(127, 'p'), referrer: long(2048, 'https://x/') } }),
    event({ context: { device: 'ß', page: '', referrer: long(60, '€') } }), // 180 bytes
    event({ sessionId: long(128, 's'), eventId: long(128, 'e'), itemId: long(127, 'i') }),
    event({ schemaVersion: 'reco.v1' }),
    event({ type: EventType.EVENT_TYPE_UNSPECIFIED }),
  ];
  for (const e of cases) {
    for (const pseudonym of [PSEUDONYM, '', long(200, 'q')])
      assert.deepEqual(writer.encode(e, pseudonym), expected(e, pseudonym), JSON.stringify(e));
  }
});

test('events stay intact when the writer moves on to a new slab', () => {
  const writer = new CleanEventWriter();
  const e = event({ context: { device: 'd', page: 'p', referrer: 'r'.repeat(2000) } });
  const written = Array.from({ length: 400 }, (_, i) =>
    writer.encode({ ...e, eventId: `e-${i}` }, PSEUDONYM),
  );
  written.forEach((bytes, i) => assert.deepEqual(bytes, expected({ ...e, eventId: `e-${i}` })));
});

test('a fractional quantity still fails as in the generated encoder', () => {
  const writer = new CleanEventWriter();
  assert.throws(() =>
    writer.encode(event({ type: EventType.EVENT_TYPE_PURCHASE, quantity: 1.5 }), PSEUDONYM),
  );
});
