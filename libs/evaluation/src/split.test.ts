import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDataset } from './dataset';
import { leaveOneOut, trainPlusValidation } from './split';

test('leave-one-out on a tiny file', () => {
  // items 1..6 map to indices 0..5
  const ds = parseDataset('1 1 2 3 4 5\n2 6 5\n3 2 4 6\n4 3\n', 'seq', 'tiny');
  const s = leaveOneOut(ds);
  const arr = (x: Int32Array) => Array.from(x);
  assert.equal(s.train.numUsers, 4);
  assert.equal(s.train.numItems, 6);
  // user 1: train [1,2,3], valid 4, test 5
  assert.deepEqual(arr(s.train.sequences[0]), [0, 1, 2]);
  // users with < 3 interactions keep everything for training and are not evaluated
  assert.deepEqual(arr(s.train.sequences[1]), [5, 4]);
  assert.deepEqual(arr(s.train.sequences[3]), [2]);
  // user 3: train [2], valid 4, test 6
  assert.deepEqual(arr(s.train.sequences[2]), [1]);

  assert.deepEqual(
    s.validation.map((c) => [c.user, arr(c.history), c.target]),
    [
      [0, [0, 1, 2], 3],
      [2, [1], 3],
    ],
  );
  // test history = train + validation item
  assert.deepEqual(
    s.test.map((c) => [c.user, arr(c.history), c.target]),
    [
      [0, [0, 1, 2, 3], 4],
      [2, [1, 3], 5],
    ],
  );
  const tv = trainPlusValidation(s);
  assert.deepEqual(tv.sequences.map(arr), [[0, 1, 2, 3], [5, 4], [1, 3], [2]]);
  // the split does not alter the dataset
  assert.deepEqual(arr(ds.sequences[0]), [0, 1, 2, 3, 4]);
});
