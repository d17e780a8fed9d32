import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sameOrNew } from './popularity-cache';

test('a refreshed popularity list with the same items and scores keeps its identity', () => {
  const current = [
    { itemId: 'a', score: 3 },
    { itemId: 'b', score: 1 },
  ];
  assert.equal(
    sameOrNew(
      current,
      current.map((x) => ({ ...x })),
    ),
    current,
  );
  const rescored = [
    { itemId: 'a', score: 3 },
    { itemId: 'b', score: 2 },
  ];
  assert.equal(sameOrNew(current, rescored), rescored);
  const reordered = [current[1]!, current[0]!];
  assert.equal(sameOrNew(current, reordered), reordered);
  assert.equal(sameOrNew(current, current.slice(0, 1)).length, 1);
  const empty: typeof current = [];
  assert.equal(sameOrNew(empty, []), empty);
});
