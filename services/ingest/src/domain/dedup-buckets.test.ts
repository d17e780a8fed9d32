import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dedupBuckets } from './dedup-buckets';

test('an id written at any time is looked for during the whole window after it, and kept that long', () => {
  for (const windowMs of [1, 2, 3, 1000, 60_001, 86_400_000]) {
    const start = 1_796_000_000_000;
    for (const t of [start, start + 1, start + Math.floor(windowMs / 3), start + windowMs - 1]) {
      const written = dedupBuckets(t, windowMs);
      assert.ok(written.expireAt >= t + windowMs, `kept for the window (${windowMs} ms, at ${t})`);
      assert.ok(written.expireAt <= t + 1.5 * windowMs + 1, 'and not much longer');
      for (const later of [t, t + 1, t + Math.floor(windowMs / 2), t + windowMs]) {
        const claim = dedupBuckets(later, windowMs);
        assert.ok(
          [claim.write, ...claim.read].includes(written.write),
          `a claim ${later - t} ms later looks in bucket ${written.write} (window ${windowMs} ms)`,
        );
        // that bucket still exists when the later claim looks into it
        assert.ok(written.expireAt > later, 'not expired yet');
      }
    }
  }
});

test('a claim looks one bucket ahead, for a replica whose clock runs ahead', () => {
  const windowMs = 60_000;
  const now = 1_796_000_000_000;
  const ahead = dedupBuckets(now + 5_000, windowMs);
  const here = dedupBuckets(now, windowMs);
  assert.ok([here.write, ...here.read].includes(ahead.write));
});

test('past one and a half windows an id is forgotten: its bucket is no longer read', () => {
  const windowMs = 1000;
  const written = dedupBuckets(10_000, windowMs); // bucket 20 of 500 ms slices
  assert.equal(written.write, 20);
  assert.equal(written.expireAt, 10_500 + 1000);
  const later = dedupBuckets(11_500, windowMs);
  assert.ok(![later.write, ...later.read].includes(20));
  assert.throws(() => dedupBuckets(0, 0), /at least 1 ms/);
});
