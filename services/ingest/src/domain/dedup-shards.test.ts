import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEDUP_SHARDS, dedupBucketKey, dedupShard, groupByShard } from './dedup-shards';

/** The part of a key Redis Cluster hashes: between the first '{' and the next '}', if not empty. */
function hashTag(key: string): string {
  const open = key.indexOf('{');
  const close = open < 0 ? -1 : key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : key;
}

test('a shard is stable, in range, and spreads ids over all shards', () => {
  assert.equal(dedupShard('e5-0'), dedupShard('e5-0'));
  assert.equal(dedupShard(''), 0x811c9dc5 % DEDUP_SHARDS);
  const counts = new Array<number>(DEDUP_SHARDS).fill(0);
  for (let i = 0; i < 64_000; i++) {
    const s = dedupShard(`e${i}`);
    assert.ok(Number.isInteger(s) && s >= 0 && s < DEDUP_SHARDS);
    counts[s]!++;
  }
  assert.ok(Math.min(...counts) > 700 && Math.max(...counts) < 1300, `uneven: ${counts.join(',')}`);
  assert.ok(dedupShard('x', 7) < 7);
});

test('groups hold every index once, in batch order, and only ids of their shard', () => {
  const ids = Array.from({ length: 500 }, (_, i) => `evt-${i % 450}`); // some repeats
  const groups = groupByShard(ids, 16);
  const seen = groups.flatMap((g) => g.indices).sort((a, b) => a - b);
  assert.deepEqual(seen, [...ids.keys()]);
  for (const { shard, indices } of groups) {
    assert.deepEqual(
      indices,
      [...indices].sort((a, b) => a - b),
    );
    for (const i of indices) assert.equal(dedupShard(ids[i]!, 16), shard);
  }
  assert.equal(new Set(groups.map((g) => g.shard)).size, groups.length, 'one group per shard');
  assert.deepEqual(groupByShard([]), []);
});

test("a shard's buckets share a hash tag (one Redis Cluster slot); other shards' do not", () => {
  for (const shard of [0, 7, 63]) {
    const tags = new Set([-1, 0, 1, 3_592_000].map((b) => hashTag(dedupBucketKey('reco:dedup:', shard, b))));
    assert.deepEqual([...tags], [String(shard)]);
  }
  assert.notEqual(hashTag(dedupBucketKey('p:', 1, 5)), hashTag(dedupBucketKey('p:', 2, 5)));
  // never the name of a key of the earlier one-key-per-id layout, `<prefix>{<shard>}<event id>`
  assert.ok(dedupBucketKey('p:', 1, 5).startsWith('p:b{'));
});
