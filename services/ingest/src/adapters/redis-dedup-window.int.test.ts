import { test } from 'node:test';
import assert from 'node:assert/strict';
import { uniquePrefix, useTestInfra } from '@reco/testing';
import { confirmedMark } from '../domain/dedup';
import { dedupKey, dedupShard } from '../domain/dedup-shards';
import { RedisDedupWindow } from './redis-dedup-window';

const env = useTestInfra();

const claim = (eventId: string, position: string) => ({ eventId, position });

test('a batch is claimed and confirmed in Redis with the SET NX GET / SET XX semantics', async () => {
  const prefix = `${uniquePrefix('dedup')}dedup:`;
  const window = new RedisDedupWindow(env.redis, prefix, 60_000);
  const ids = Array.from({ length: 2000 }, (_, i) => `evt-${i}`);
  // First batch: all new, except a repeat of evt-3 inside the batch itself.
  const first = await window.claim([
    ...ids.map((id, i) => claim(id, `raw/0/${i}`)),
    claim('evt-3', 'raw/0/9999'),
  ]);
  assert.equal(first.length, 2001);
  assert.ok(first.slice(0, 2000).every((s) => s === 'first'));
  assert.equal(first[2000], 'duplicate', 'a repeat inside one batch is a duplicate');

  const key = dedupKey(prefix, dedupShard('evt-7'), 'evt-7');
  assert.equal(await env.redis.get(key), 'raw/0/7', 'the mark is the first sighting');
  const ttl = await env.redis.pttl(key);
  assert.ok(ttl > 50_000 && ttl <= 60_000, `expires with the window (${ttl} ms)`);

  // Reprocessing the same positions (crash before commit) is a replay; elsewhere a duplicate.
  const again = await window.claim([
    claim('evt-0', 'raw/0/0'),
    claim('evt-1', 'raw/1/5'),
    claim('new', 'raw/1/6'),
  ]);
  assert.deepEqual(again, ['replay', 'duplicate', 'first']);

  // Confirmed marks are never replays again, even from the same position.
  await window.confirm(ids.slice(0, 1000).map((id, i) => claim(id, `raw/0/${i}`)));
  assert.equal(await env.redis.get(key), confirmedMark('raw/0/7'));
  const afterCommit = await window.claim([claim('evt-7', 'raw/0/7'), claim('evt-1500', 'raw/0/1500')]);
  assert.deepEqual(afterCommit, ['duplicate', 'replay']);

  // Confirm only overwrites marks that exist (XX): an expired id is not brought back.
  await window.confirm([claim('never-claimed', 'raw/0/1')]);
  assert.equal(await env.redis.exists(dedupKey(prefix, dedupShard('never-claimed'), 'never-claimed')), 0);
  assert.deepEqual(await window.claim([]), []);
});
