import { test } from 'node:test';
import assert from 'node:assert/strict';
import { uniquePrefix, useTestInfra } from '@reco/testing';
import type { SourceEvents } from '../domain/dedup';
import { dedupKey, dedupShard } from '../domain/dedup-shards';
import { RedisDedupWindow, watermarkKey } from './redis-dedup-window';

const env = useTestInfra();

/** Events of partition `raw/<partition>`: [event id, offset] pairs. */
const events = (partition: number, pairs: [string, number][]): SourceEvents => ({
  topic: 'raw',
  partition,
  eventIds: pairs.map(([id]) => id),
  offsets: pairs.map(([, offset]) => String(offset)),
});

test('a batch is claimed in Redis with SET NX GET and confirmed by its partition watermark', async () => {
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

  // Confirming raises the partition's committed watermark past the batch; marks stay as they are.
  await window.confirm(first);
  const watermark = watermarkKey(prefix, 'raw', 0);
  assert.equal(await env.redis.get(watermark), '10000', 'the offset after the last claimed event');
  const watermarkTtl = await env.redis.pttl(watermark);
  assert.ok(watermarkTtl > 50_000 && watermarkTtl <= 60_000, `kept for the window (${watermarkTtl} ms)`);
  assert.equal(await env.redis.get(key), 'raw/0/7');
  const afterCommit = await window.claim(events(0, [['evt-7', 7]]));
  assert.deepEqual(afterCommit.sightings, ['duplicate'], 'committed once: never again');
  // Above the watermark, the same position is still a replay (not committed yet).
  const above = await window.claim(events(0, [['late', 10_001]]));
  assert.deepEqual((await window.claim(events(0, [['late', 10_001]]))).sightings, ['replay']);

  // A later confirm of an earlier batch (another replica, late) does not lower the watermark.
  await window.confirm(await window.claim(events(0, [['early', 5]])));
  assert.equal(await env.redis.get(watermark), '10000');
  await window.confirm(above);
  assert.equal(await env.redis.get(watermark), '10002');
  assert.deepEqual((await window.claim(events(0, [['late', 10_001]]))).sightings, ['duplicate']);
  await window.confirm(await window.claim(events(0, []))); // nothing to record
  assert.equal(await env.redis.get(watermarkKey(prefix, 'raw', 1)), null, 'partition 1 never committed');
});
