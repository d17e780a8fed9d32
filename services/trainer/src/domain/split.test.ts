import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitByTime, timeCutoff } from './split';

const histories = new Map([
  ['u1', { items: ['a', 'b', 'c', 'd', 'e'], times: [1, 2, 3, 4, 10] }],
  ['u2', { items: ['b', 'c'], times: [5, 6] }],
  ['u3', { items: ['f'], times: [9] }],
]);

test('the cutoff leaves the requested share of events after it', () => {
  assert.equal(timeCutoff(histories.values(), 0.25), 9); // 8 events; the last 2 (9, 10) are held out
});

test('before the cutoff trains (last item to validation), the first item after it is the holdout target', () => {
  const s = splitByTime(histories, 0.25, ['catalog-only']);
  assert.equal(s.cutoffTime, 9);
  assert.deepEqual(s.holdout, [{ history: ['a', 'b', 'c', 'd'], target: 'e' }]);
  assert.deepEqual(s.itemIds, ['a', 'b', 'c', 'd', 'catalog-only']);
  // u1 trains on a b c and validates on d; u2 has 2 items: all train; u3 has none before the cutoff
  assert.deepEqual(
    s.sequences.map((x) => [...x]),
    [
      [0, 1, 2],
      [1, 2],
    ],
  );
  assert.deepEqual(
    s.validation.map((v) => ({ user: v.user, history: [...v.history], target: v.target })),
    [{ user: 0, history: [0, 1, 2], target: 3 }],
  );
});

test('feedback bonuses weight the positions of the interactions they label', () => {
  const s = splitByTime(histories, 0.25, [], new Map([['u1', new Map([['b', 1]])]]));
  assert.deepEqual(
    s.weights.map((w) => [...w]),
    [
      [1, 2, 1],
      [1, 1],
    ],
  );
});

test('the split does not depend on the order the replay met users and catalog items in', () => {
  const reordered = new Map([...histories].reverse());
  const a = splitByTime(histories, 0.25, ['x', 'catalog-only']);
  const b = splitByTime(reordered, 0.25, ['catalog-only', 'x']);
  assert.deepEqual(b.itemIds, a.itemIds);
  assert.deepEqual(b.sequences, a.sequences);
  assert.deepEqual(b.validation, a.validation);
  assert.deepEqual(b.holdout, a.holdout);
});
