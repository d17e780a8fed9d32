import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silent, testTf } from './test-util';
import { trainSequenceModel } from './trainer';

test('warm start keeps the known items’ embeddings and the transformer weights, and appends new items', async () => {
  const tf = testTf();
  const base = {
    tf,
    dim: 8,
    blocks: 1,
    heads: 1,
    maxLen: 4,
    ffnDim: 8,
    dropout: 0,
    learningRate: 0.01,
    batchSize: 16,
    patience: 0,
    seed: 3,
    log: silent,
  };
  const sequences = Array.from({ length: 40 }, (_, u) => Int32Array.from([u % 5, (u + 1) % 5, (u + 2) % 5]));
  const live = (
    await trainSequenceModel({ itemIds: ['a', 'b', 'c', 'd', 'e'], sequences }, { ...base, epochs: 3 })
  ).model;
  // The new run knows one more item and lists the old ones in another order; 0 epochs = the initial weights.
  const itemIds = ['e', 'new', 'a', 'b', 'c', 'd'];
  const warm = (await trainSequenceModel({ itemIds, sequences: [] }, { ...base, epochs: 0, warmStart: live }))
    .model;
  const row = (m: typeof live, id: string) => {
    const i = m.itemIndex(id)!;
    return [...m.itemEmbeddings().subarray(i * m.dim, (i + 1) * m.dim)];
  };
  for (const id of ['a', 'b', 'c', 'd', 'e'])
    assert.deepEqual(row(warm, id), row(live, id), `${id} keeps its embedding`);
  assert.ok(
    row(warm, 'new').some((x) => x !== 0),
    'the new item gets a fresh embedding',
  );
  const liveWeights = live.net.snapshot();
  const warmWeights = warm.net.snapshot();
  assert.deepEqual([...warmWeights.get('block0.attn.wq')!], [...liveWeights.get('block0.attn.wq')!]);
  // Another architecture starts cold.
  const cold = (
    await trainSequenceModel(
      { itemIds, sequences: [] },
      { ...base, dim: 16, ffnDim: 16, epochs: 0, warmStart: live },
    )
  ).model;
  assert.equal(cold.dim, 16);
  live.dispose();
  warm.dispose();
  cold.dispose();
});
