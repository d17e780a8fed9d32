import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silent, testTf } from './test-util';
import { trainSequenceModel } from './trainer';

test('target weights steer training: after A, the heavier of two equally frequent followers wins', async () => {
  const tf = testTf();
  // items: 0 = A, 1 = B, 2 = C, 3..9 filler. Half the users go A → B, half A → C.
  const itemIds = Array.from({ length: 10 }, (_, i) => `i${i}`);
  const sequences: Int32Array[] = [];
  const weights: Float32Array[] = [];
  for (let u = 0; u < 200; u++) {
    const follower = u % 2 === 0 ? 1 : 2;
    const filler = 3 + (u % 7);
    sequences.push(Int32Array.from([filler, 0, follower]));
    // C's appearances were bought after a recommendation: they weigh 4 times as much.
    weights.push(Float32Array.from([1, 1, follower === 2 ? 4 : 1]));
  }
  const settings = {
    tf,
    dim: 16,
    blocks: 1,
    heads: 1,
    maxLen: 4,
    ffnDim: 16,
    dropout: 0,
    learningRate: 0.02,
    batchSize: 50,
    epochs: 30,
    patience: 0,
    seed: 7,
    log: silent,
  };
  const score = (
    m: { encodeUsers(s: Int32Array[]): Float32Array; itemEmbeddings(): Float32Array; dim: number },
    item: number,
  ) => {
    const u = m.encodeUsers([Int32Array.from([3, 0])]);
    const e = m.itemEmbeddings();
    let s = 0;
    for (let k = 0; k < m.dim; k++) s += u[k]! * e[item * m.dim + k]!;
    return s;
  };
  const weighted = (await trainSequenceModel({ itemIds, sequences, weights }, settings)).model;
  assert.ok(score(weighted, 2) > score(weighted, 1), 'C outranks B when C weighs more');
  const flipped = (
    await trainSequenceModel(
      { itemIds, sequences, weights: weights.map((w, u) => Float32Array.from([1, 1, u % 2 === 0 ? 4 : 1])) },
      settings,
    )
  ).model;
  assert.ok(score(flipped, 1) > score(flipped, 2), 'B outranks C when B weighs more');
  weighted.dispose();
  flipped.dispose();
});
