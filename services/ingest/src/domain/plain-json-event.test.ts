import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClickstreamEvent } from '@reco/contracts';
import { generateClickstream } from '@reco/loadgen';
import {
  decodeClickstreamEvent,
  decodeJsonEvent,
  parseEventType,
  validateClickstreamEvent,
} from './clickstream-event';
import { DEFAULT_LIMITS } from './limits';
import { readPlainJsonEvent } from './plain-json-event';

const now = Date.now();
const LIMITS = [DEFAULT_LIMITS, { ...DEFAULT_LIMITS, allowUnknownJsonFields: true }];

/** An event with its time as a number: deepEqual sees two invalid Dates as different. */
const comparable = (e: ClickstreamEvent) => ({
  ...e,
  timestamp: e.timestamp && String(e.timestamp.getTime()),
});

/**
 * The reader's promise: for any text it reads, exactly the general path's event; otherwise
 * nothing. And the whole decode (reader first) gives the general path's verdict, so the same
 * event or the same rejection, field included.
 */
function assertAsGeneralPath(text: string): boolean {
  const plain = readPlainJsonEvent(text, parseEventType);
  // Read from Latin-1, only texts that are all ASCII, and then the same event
  const latin1 = Buffer.from(text).toString('latin1');
  const ascii = readPlainJsonEvent(latin1, parseEventType, true);
  if (ascii) {
    assert.ok(plain && latin1 === text, `read as Latin-1: ${text}`);
    assert.deepEqual(comparable(ascii), comparable(plain));
  }
  for (const limits of LIMITS) {
    const general = decodeJsonEvent(text, limits);
    if (plain) {
      assert.ok(general.ok, `read ${text}, which the general path refuses`);
      assert.deepEqual(comparable(plain), comparable(general.value), text);
    }
    const decoded = decodeClickstreamEvent(Buffer.from(text), 'application/json', limits);
    const verdict = (v: typeof decoded) =>
      v.ok ? { event: comparable(v.value), rejection: validateClickstreamEvent(v.value, now, limits) } : v;
    assert.deepEqual(verdict(decoded), verdict(general), text);
  }
  return plain !== undefined;
}

const corpus = [
  ...generateClickstream({
    count: 3000,
    users: 500,
    items: 1000,
    seed: 11,
    format: 'json',
    malformedShare: 0.3,
    duplicateShare: 0.05,
  }),
]
  .filter((m) => m.headers['content-type'] === 'application/json')
  .map((m) => ({ text: m.value.toString('utf8'), valid: m.kind !== 'malformed' }));

test('every valid loadgen event is read by the plain reader, as the general path reads it', () => {
  const valid = corpus.filter((c) => c.valid);
  assert.ok(valid.length > 1500);
  for (const { text } of valid) assert.ok(assertAsGeneralPath(text), `not read: ${text}`);
});

test('malformed loadgen events get the same rejection, naming the same field', () => {
  const malformed = corpus.filter((c) => !c.valid);
  assert.ok(malformed.length > 500);
  for (const { text } of malformed) assertAsGeneralPath(text);
});

test('forms the reader takes and forms it leaves to the general path', () => {
  const base = {
    event_id: 'e1',
    type: 'EVENT_TYPE_ADD_TO_CART',
    user_id: 'u1',
    timestamp: '2026-11-28T11:00:00.5Z',
    item_id: 'i1',
    quantity: 2,
    price: 13.96,
  };
  const json = (o: object) => JSON.stringify(o);
  const read = [
    json(base),
    json({
      eventId: 'e1',
      userId: 'u1',
      itemId: 'i1',
      sessionId: 's',
      schemaVersion: 'reco.v1',
      type: 'click',
    }),
    ` \n{ "event_id" : "e1" ,\t"price": -0, "quantity": 1.5e2 }\r\n`,
    json({ ...base, price: 1e-7, quantity: 123456789012345 }),
    json(base).replace('"quantity":2', '"quantity":1234567890123456789'), // beyond 2^53: rounded alike
    json({ ...base, price: -12.5e3 }),
    json({ ...base, type: 'EVENT_TYPE_TELEPORT' }),
    json({ ...base, type: 'teleport' }),
    json({ ...base, timestamp: 'yesterday' }),
    json({ ...base, timestamp: '2026-11-28 11:00' }),
    json({ ...base, query: '  winter boots  ', context: {} }),
    json({ ...base, context: { referrer: 'https://x', page: 'p', device: 'd' } }),
    json({ ...base, user_id: 'ünïcödé ☃', query: '😀' }),
    json({ ...base, user_id: '' }),
    json({ ...base, schema_version: 'reco.v9' }),
    '{}',
  ];
  for (const text of read) assert.ok(assertAsGeneralPath(text), `not read: ${text}`);
  const left = [
    json({ ...base, user_id: 'a"b' }), // escapes
    json({ ...base, query: 'tab\there' }),
    '{"event_id":"e1","user_id":"\\u0075"}',
    json({ ...base, user_id: null }), // null means the default
    json({ ...base, context: null }),
    json({ ...base, price: '3.5' }), // numbers as strings
    json({ ...base, type: 3 }),
    json({ ...base, user_id: 12345 }),
    json({ ...base, itemid: 'x' }), // unknown fields
    json({ ...base, context: { device: 'd', color: 'red' } }),
    json({ ...base, context: { device: 5 } }),
    json({ ...base, context: [] }),
    '{"event_id":"e1","eventId":"e2"}', // one field twice
    '{"event_id":"e1","event_id":"e2"}',
    '{"context":{"page":"a","page":"b"}}',
    '{"event_id":"e1",}', // not JSON
    '{"event_id":"e1"} x',
    '{"event_id":"e1"}{}',
    '{"price":01}',
    '{"price":1.}',
    '{"price":.5}',
    '{"price":1e}',
    '{"price":-}',
    '{"price":+1}',
    '{"price":NaN}',
    '{"event_id":"e1"',
    '{"event_id":"e1',
    '{"event_id" "e1"}',
    '{"event_id":"line\nbreak"}',
    '\ufeff{"event_id":"e1"}',
    '[]',
    '"e1"',
    '{"__proto__":{"event_id":"x"}}',
  ];
  for (const text of left) assert.equal(assertAsGeneralPath(text), false, `read: ${text}`);
  assert.equal(readPlainJsonEvent('', parseEventType), undefined);
});

test('mutations of valid events: read exactly as the general path reads them, or left to it', () => {
  // A fixed pseudo-random sequence, so a failure can be replayed.
  let seed = 7;
  const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const pieces = [
    '"',
    '\\',
    '{',
    '}',
    ',',
    ':',
    ' ',
    '0',
    '1',
    '-',
    '.',
    'e',
    'E',
    '+',
    'null',
    '[',
    '\n',
    '\u0001',
    'é',
    '_id',
    'Id',
  ];
  const valid = corpus.filter((c) => c.valid).slice(0, 400);
  let read = 0;
  let total = 0;
  for (const { text } of valid)
    for (let m = 0; m < 40; m++) {
      const at = Math.floor(rand() * text.length);
      const cut = Math.floor(rand() * 3);
      const piece = rand() < 0.3 ? '' : pieces[Math.floor(rand() * pieces.length)]!;
      const mutated = text.slice(0, at) + piece + text.slice(at + cut);
      if (assertAsGeneralPath(mutated)) read++;
      total++;
    }
  // Many mutations stay readable (a changed letter in a value), many do not.
  assert.ok(read > total / 10 && read < total, `${read} of ${total} read`);
});

test('times in the toISOString form are read as the Date parser reads them', () => {
  const times: string[] = [];
  for (const year of [1970, 2023, 2024, 2026, 2100, 9999])
    for (let month = 1; month <= 12; month++)
      for (let day = 1; day <= 31; day++) {
        const date = `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
        times.push(`${date}T00:00:00Z`, `${date}T23:59:59.999Z`, `${date}T12:34:56.078Z`);
      }
  for (let t = 0; t < 2000; t++) times.push(new Date(1_700_000_000_000 + t * 987_654_321).toISOString());
  const odd = [
    '1969-12-31T23:59:59.999Z', // before 1970: parsed
    '0050-01-01T00:00:00Z', // Date.UTC would read year 50 as 1950
    '2026-00-01T00:00:00Z',
    '2026-13-01T00:00:00Z',
    '2026-01-00T00:00:00Z',
    '2026-01-32T00:00:00Z',
    '2026-01-01T24:00:00Z',
    '2026-01-01T23:60:00Z',
    '2026-01-01T23:59:60Z',
    '2026-01-01T23:59:59.5Z',
    '2026-01-01T23:59:59.1234Z',
    '2026-01-01T23:59:59+01:00',
    '2026-01-01t23:59:59Z',
    '2026-01-01T23:59:59.x00Z',
    '2026-01-01T23:59:59.0x0Z',
    '2026-0a-01T23:59:59.000Z',
    '2026-01-01T23:59:59',
    '+002026-01-01T00:00:00.000Z',
  ];
  for (const time of [...times, ...odd]) {
    const text = JSON.stringify({ event_id: 'e', timestamp: time });
    assert.ok(assertAsGeneralPath(text));
    assert.equal(
      String(readPlainJsonEvent(text, parseEventType)!.timestamp!.getTime()),
      String(new Date(time).getTime()),
      time,
    );
  }
});
