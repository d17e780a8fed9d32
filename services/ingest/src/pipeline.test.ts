import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClickstreamEvent, DeadLetter } from '@reco/contracts';
import {
  classifySighting,
  positionPrefix,
  sourcePosition,
  watermarkAfter,
  type DedupClaim,
  type DedupWindow,
  type SourceEvents,
} from './domain/dedup';
import { DEFAULT_LIMITS } from './domain/limits';
import { pseudonymize } from '@reco/platform';
import { UserRoutes } from './user-routes';
import { ingestCatalog, ingestClickstream, type RawMessage } from './pipeline';

/** Unit-test stand-in for the Redis window: same SET NX GET and watermark semantics. */
class MapDedup implements DedupWindow {
  marks = new Map<string, string>();
  committedBelow = new Map<string, bigint>();
  async claim(events: SourceEvents): Promise<DedupClaim> {
    const committedBelow = this.committedBelow.get(positionPrefix(events.topic, events.partition)) ?? 0n;
    const sightings = events.eventIds.map((id, i) => {
      const position = sourcePosition(events.topic, events.partition, events.offsets[i]!);
      const prev = this.marks.get(id) ?? null;
      if (prev === null) this.marks.set(id, position);
      return classifySighting(prev, position, committedBelow);
    });
    return { sightings, watermark: watermarkAfter(events) };
  }
  async confirm({ watermark }: DedupClaim) {
    if (!watermark) return;
    const key = positionPrefix(watermark.topic, watermark.partition);
    if (watermark.nextOffset > (this.committedBelow.get(key) ?? 0n))
      this.committedBelow.set(key, watermark.nextOffset);
  }
}

const KEY = Buffer.from('x'.repeat(32));
const now = Date.parse('2026-11-28T12:00:00Z');
const msg = (offset: number, obj: unknown, headers: Record<string, string> = {}): RawMessage => ({
  topic: 'raw',
  partition: 0,
  offset: String(offset),
  key: Buffer.from('k'),
  value: Buffer.from(typeof obj === 'string' ? obj : JSON.stringify(obj)),
  headers,
});
const ev = (id: string, user: string) => ({
  event_id: id,
  type: 'click',
  user_id: user,
  item_id: 'i1',
  timestamp: '2026-11-28T11:00:00Z',
});

test('valid events go clean and keyed by pseudonym, in order; invalid ones become dead letters', async () => {
  const dedup = new MapDedup();
  const out = await ingestClickstream(
    [
      msg(0, ev('a', 'alice')),
      msg(1, '{oops'),
      msg(2, ev('b', 'bob')),
      msg(3, ev('a', 'alice')),
      msg(4, ev('c', 'alice')),
    ],
    { limits: DEFAULT_LIMITS, users: new UserRoutes(KEY), dedup, now: () => now },
  );
  assert.equal(out.duplicates, 1);
  assert.deepEqual(
    out.clean.map((m) => ClickstreamEvent.decode(m.value).eventId),
    ['a', 'b', 'c'],
  );
  assert.equal(String(out.clean[0]!.key), pseudonymize('alice', KEY));
  assert.equal(ClickstreamEvent.decode(out.clean[0]!.value).userId, pseudonymize('alice', KEY));
  for (const m of out.clean) assert.ok(!m.value.includes(Buffer.from('alice')));
  // The clean topic's value type is fixed (docs/topics.md): no header per record.
  for (const m of out.clean) assert.deepEqual(m.headers, {});
  assert.equal(out.deadLetters.length, 1);
  assert.equal(out.deadLetters[0]!.headers['x-reject-reason'], 'malformed_json');
  const letter = DeadLetter.decode(out.deadLetters[0]!.value);
  assert.equal(letter.reason, 'malformed_json');
  assert.equal(letter.sourceTopic, 'raw');
  assert.equal(letter.sourceOffset, 1);
  assert.equal(Buffer.from(letter.originalValue).toString(), '{oops');
});

test('reprocessing the same positions after a crash republishes instead of dropping', async () => {
  const dedup = new MapDedup();
  const batch = [msg(10, ev('x', 'u1')), msg(11, ev('y', 'u2'))];
  const deps = { limits: DEFAULT_LIMITS, users: new UserRoutes(KEY), dedup, now: () => now };
  const first = await ingestClickstream(batch, deps);
  const replay = await ingestClickstream(batch, deps);
  assert.equal(first.clean.length, 2);
  assert.equal(replay.clean.length, 2);
  assert.equal(replay.duplicates, 0);
  assert.equal(first.replays, 0);
  assert.equal(replay.replays, 2);
  const later = await ingestClickstream([msg(12, ev('x', 'u1'))], deps);
  assert.equal(later.clean.length, 0);
  assert.equal(later.duplicates, 1);
});

test('catalog upserts are keyed by item id; bad ones dead-lettered', () => {
  const out = ingestCatalog(
    [
      msg(0, { item_id: 'sku-1', title: 'Cream', price: 3, currency: 'EUR' }),
      msg(1, { item_id: 'sku-2', title: '', price: 3 }),
    ],
    { limits: DEFAULT_LIMITS, now: () => now },
  );
  assert.equal(out.catalog.length, 1);
  assert.equal(out.catalog[0]!.key, 'sku-1');
  assert.equal(DeadLetter.decode(out.deadLetters[0]!.value).field, 'title');
});

test('a batch whose transaction committed is not republished when read again', async () => {
  const dedup = new MapDedup();
  const batch = [msg(20, ev('p', 'u1')), msg(21, ev('q', 'u2'))];
  const deps = { limits: DEFAULT_LIMITS, users: new UserRoutes(KEY), dedup, now: () => now };
  const first = await ingestClickstream(batch, deps);
  await dedup.confirm(first.claim!);
  const again = await ingestClickstream(batch, deps);
  assert.equal(again.clean.length, 0);
  assert.equal(again.duplicates, 2);
});

test('clean events encoded one after another keep their own bytes; a fractional quantity is dead-lettered', async () => {
  const dedup = new MapDedup();
  const deps = { limits: DEFAULT_LIMITS, users: new UserRoutes(KEY), dedup, now: () => now };
  const long = { ...ev('long', 'u1'), type: 'search', item_id: undefined, query: 'q'.repeat(400) };
  const out = await ingestClickstream(
    [
      msg(0, long),
      msg(1, ev('short', 'u2')),
      msg(2, { ...ev('frac', 'u3'), type: 'add_to_cart', quantity: 1.5 }),
      msg(3, { ...ev('cart', 'u4'), type: 'add_to_cart', quantity: 3 }),
    ],
    deps,
  );
  const decoded = out.clean.map((m) => ClickstreamEvent.decode(m.value));
  assert.deepEqual(
    decoded.map((e) => [e.eventId, e.query.length, e.quantity]),
    [
      ['long', 400, 0],
      ['short', 0, 0],
      ['cart', 0, 3],
    ],
  );
  for (const m of out.clean)
    assert.deepEqual(
      m.value,
      Buffer.from(ClickstreamEvent.encode(ClickstreamEvent.decode(m.value)).finish()),
    );
  assert.equal(out.deadLetters.length, 1);
  const letter = DeadLetter.decode(out.deadLetters[0]!.value);
  assert.deepEqual([letter.reason, letter.field, letter.sourceOffset], ['invalid_type', 'quantity', 2]);
});

test('a batch mixing partitions is refused (positions are per partition)', async () => {
  const deps = {
    limits: DEFAULT_LIMITS,
    users: new UserRoutes(KEY),
    dedup: new MapDedup(),
    now: () => now,
  };
  await assert.rejects(
    ingestClickstream([msg(0, ev('m', 'u1')), { ...msg(1, ev('n', 'u2')), partition: 1 }], deps),
    /one batch, one partition/,
  );
});
