import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aggregateIncrements, trendingScore, windowBuckets } from './popularity';

test('sliding windows: 12 five-minute buckets, 24 and 168 hourly ones, newest first', () => {
  const w = windowBuckets(7200 + 301);
  assert.equal(w.w1h.buckets.length, 12);
  assert.equal(w.w1h.buckets[0], 25);
  assert.equal(w.w24h.buckets[0], 2);
  assert.equal(w.w7d.buckets.length, 168);
});

test('trending favours items hotter than their weekly average, and volume', () => {
  assert.equal(trendingScore(0, 100), 0);
  assert.ok(trendingScore(10, 10) > trendingScore(10, 1000), 'a new spike beats a steady seller');
  assert.ok(trendingScore(50, 50) > trendingScore(2, 2), 'volume counts');
  assert.ok(trendingScore(1, 0) < trendingScore(5, 5));
});

test('increments are summed per bucket and item', () => {
  const m = aggregateIncrements(
    [
      { item: 'a', weight: 1, at: 10 },
      { item: 'a', weight: 2, at: 20 },
      { item: 'b', weight: 5, at: 400 },
    ],
    (size, b) => `${size}:${b}`,
  );
  assert.deepEqual(m.get('300:0'), new Map([['a', 3]]));
  assert.deepEqual(m.get('300:1'), new Map([['b', 5]]));
  assert.deepEqual(
    m.get('3600:0'),
    new Map([
      ['a', 3],
      ['b', 5],
    ]),
  );
});
