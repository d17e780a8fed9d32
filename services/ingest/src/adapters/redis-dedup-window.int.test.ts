import { test } from 'node:test';
import assert from 'node:assert/strict';
import { uniquePrefix, useTestInfra } from '@reco/testing';
import type { SourceEvents } from '../domain/dedup';
import { dedupBuckets } from '../domain/dedup-buckets';
import { dedupBucketKey, dedupShard } from '../domain/dedup-shards';
import { RedisDedupWindow, watermarkKey } from './redis-dedup-window';

const env = useTestInfra();

/** Events of partition `raw/<partition>`: [event id, offset] pairs. */
const events = (partition: number, pairs: [string, number][]): SourceEvents => ({
  topic: 'raw',
  partition,
  eventIds: pairs.map(([id]) => id),
  offsets: pairs.map(([, offset]) => String(offset)),
});

test('a batch is claimed in Redis bucket hashes and confirmed by its partition watermark', async () => {
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

  assert.deepEqual(await window.peek(['evt-7', 'evt-3', 'never']), ['raw/0/7', 'raw/0/3', null]);
  const bucket = dedupBucketKey(prefix, dedupShard('evt-7'), dedupBuckets(Date.now(), 60_000).write);
  assert.equal(await env.redis.hget(bucket, 'evt-7'), 'raw/0/7', 'the mark is the first sighting');
  const ttl = await env.redis.pttl(bucket);
  assert.ok(ttl > 60_000 && ttl <= 90_000, `the bucket expires a window after its end (${ttl} ms)`);

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
  assert.deepEqual(await window.peek(['evt-7']), ['raw/0/7']);
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

test('an id is found in the buckets before and after the current one, and forgotten after the window', async () => {
  const prefix = `${uniquePrefix('dedup-time')}dedup:`;
  const windowMs = 60_000; // buckets of 30 s
  // 1 s into a bucket (b), so that each step below lands in a known bucket
  const start = Math.ceil(Date.now() / 30_000) * 30_000 + 1_000;
  let now = start;
  const window = new RedisDedupWindow(env.redis, prefix, windowMs, 4, () => now);
  const claim = async (partition: number, pairs: [string, number][], at: number) => {
    now = at;
    return (await window.claim(events(partition, pairs))).sightings;
  };
  assert.deepEqual(
    await claim(
      0,
      [
        ['a', 1],
        ['b', 2],
      ],
      start,
    ),
    ['first', 'first'],
  ); // bucket b
  assert.deepEqual(await claim(1, [['c', 3]], start + 35_000), ['first']); // b + 1
  // A replica whose clock is 10 s behind, still in bucket b, sees what was written in b + 1.
  assert.deepEqual(await claim(2, [['c', 9]], start + 25_000), ['duplicate']);
  // Just under a window after 'a' (bucket b + 2): still remembered.
  assert.deepEqual(await claim(3, [['a', 4]], start + windowMs - 1), ['duplicate']);
  // One and a half windows after (b + 3): 'a' and 'b' forgotten, 'c' (b + 1) not yet.
  assert.deepEqual(
    await claim(
      4,
      [
        ['a', 5],
        ['b', 6],
        ['c', 7],
      ],
      start + 1.5 * windowMs + 1,
    ),
    ['first', 'first', 'duplicate'],
  );
});

test('a claim of more ids than one HMGET/HSET chunk (4,000) in one shard', async () => {
  const prefix = `${uniquePrefix('dedup-big')}dedup:`;
  const window = new RedisDedupWindow(env.redis, prefix, 60_000, 1);
  const pairs = Array.from({ length: 9_001 }, (_, i): [string, number] => [`big-${i}`, i]);
  pairs.push(['big-8999', 9_001]); // a repeat inside the batch, in the last chunk
  const first = await window.claim(events(0, pairs));
  assert.equal(first.sightings.filter((s) => s === 'first').length, 9_001);
  assert.equal(first.sightings[9_001], 'duplicate');
  const again = await window.claim(events(1, pairs.slice(0, 9_001)));
  assert.ok(again.sightings.every((s) => s === 'duplicate'));
  assert.equal(
    await env.redis.hlen(dedupBucketKey(prefix, 0, dedupBuckets(Date.now(), 60_000).write)),
    9_001,
  );
});

test('ingest warns when Redis would free an expired bucket on its main thread', async () => {
  const window = new RedisDedupWindow(env.redis, `${uniquePrefix('dedup-config')}dedup:`, 60_000);
  const [, before] = (await env.redis.config('GET', 'lazyfree-lazy-expire')) as string[];
  try {
    await env.redis.config('SET', 'lazyfree-lazy-expire', 'no');
    assert.match((await window.serverWarning()) ?? '', /lazyfree-lazy-expire yes/);
    await env.redis.config('SET', 'lazyfree-lazy-expire', 'yes');
    assert.equal(await window.serverWarning(), undefined);
  } finally {
    await env.redis.config('SET', 'lazyfree-lazy-expire', before!);
  }
});
