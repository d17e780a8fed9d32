import { test } from 'node:test';
import assert from 'node:assert/strict';
import { uniquePrefix, useTestInfra } from '@reco/testing';
import { confirmedMark, type SourceEvents } from '../domain/dedup';
import { dedupKey, dedupShard } from '../domain/dedup-shards';
import { RedisDedupWindow } from './redis-dedup-window';

const env = useTestInfra();

/** Events of partition `raw/<partition>`: [event id, offset] pairs. */
const events = (partition: number, pairs: [string, number][]): SourceEvents => ({
  topic: 'raw',
  partition,
  eventIds: pairs.map(([id]) => id),
  offsets: pairs.map(([, offset]) => String(offset)),
});

test('a batch is claimed and confirmed in Redis with the SET NX GET / SET XX semantics', async () => {
  const prefix = `${uniquePrefix('dedup')}dedup:`;
  const window = new RedisDedupWindow(env.redis, prefix, 60_000);
  const ids = Array.from({ length: 2000 }, (_, i) => `evt-${i}`);
  // First batch: all new, except a repeat of evt-3 inside the batch itself.
  const first = await window.claim(
    events(0, [...ids.map((id, i): [string, number] => [id, i]), ['evt-3', 9999]]),
  );
  assert.equal(first.sightings.length, 2001);
  assert.ok(first.sightings.slice(0, 2000).every((s) => s === 'first'));
  assert.equal(first.sightings[2000], 'duplicate', 'a repeat inside one batch is a duplicate');

  const key = dedupKey(prefix, dedupShard('evt-7'), 'evt-7');
  assert.equal(await env.redis.get(key), 'raw/0/7', 'the mark is the first sighting');
  const ttl = await env.redis.pttl(key);
  assert.ok(ttl > 50_000 && ttl <= 60_000, `expires with the window (${ttl} ms)`);

  // Reprocessing the same positions (crash before commit) is a replay; elsewhere a duplicate.
  const again = await window.claim(
    events(1, [
      ['evt-1', 5],
      ['new', 6],
    ]),
  );
  assert.deepEqual(again.sightings, ['duplicate', 'first']);
  const replayed = await window.claim(events(0, [['evt-0', 0]]));
  assert.deepEqual(replayed.sightings, ['replay']);

  // Confirming marks what the batch published: not its duplicate (evt-3 seen at offset 9999).
  await window.confirm(first);
  assert.equal(await env.redis.get(key), confirmedMark('raw/0/7'));
  assert.equal(await env.redis.get(dedupKey(prefix, dedupShard('evt-3'), 'evt-3')), confirmedMark('raw/0/3'));
  const afterCommit = await window.claim(events(0, [['evt-7', 7]]));
  assert.deepEqual(afterCommit.sightings, ['duplicate'], 'committed once: never again');

  // A claim made by another window object (no keys kept) confirms the same way.
  const fresh = new RedisDedupWindow(env.redis, prefix, 60_000);
  await fresh.confirm({ events: events(1, [['new', 6]]), sightings: ['first'] });
  assert.equal(await env.redis.get(dedupKey(prefix, dedupShard('new'), 'new')), confirmedMark('raw/1/6'));

  // Confirm only overwrites marks that exist (XX): an expired id is not brought back.
  await window.confirm({ events: events(0, [['never-claimed', 1]]), sightings: ['first'] });
  assert.equal(await env.redis.exists(dedupKey(prefix, dedupShard('never-claimed'), 'never-claimed')), 0);
  assert.deepEqual((await window.claim(events(0, []))).sightings, []);
  await window.confirm({ events: events(0, [['evt-9', 9]]), sightings: ['duplicate'] }); // nothing to send
});
