import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AnnIndex } from './ann-index';
import { exactTopK, recallAtK } from './exact';
import { ClusteredVectors } from './clustered-vectors';

test('recall@100 of the HNSW index against exact inner-product search is at least 0.95', () => {
  const dim = 32;
  const n = 20_000;
  // Users' interest vectors live in the items' space (they are trained to score items).
  const vectors = new ClusteredVectors(dim, 50, 1);
  const items = vectors.sample(n);
  const queries = vectors.sample(100);
  const index = AnnIndex.build(items, dim);
  const approx: number[][] = [];
  const exact: number[][] = [];
  for (let q = 0; q < 100; q++) {
    const query = queries.subarray(q * dim, (q + 1) * dim);
    approx.push(index.search(query, 100).labels);
    exact.push(exactTopK(items, dim, query, 100));
  }
  const recall = recallAtK(approx, exact);
  console.log(`ann recall@100 = ${recall.toFixed(4)} (n=${n}, dim=${dim})`);
  assert.ok(recall >= 0.95, `recall@100 ${recall}`);
});

test('scores are inner products, best first; items added after the build are found', () => {
  const dim = 4;
  const items = new Float32Array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0]);
  const index = AnnIndex.build(items, dim, { spareCapacity: 1 });
  index.add(3, [1.2, 0, 0, 0]);
  index.add(4, [0, 0, 0, 1]); // beyond the spare capacity: the index grows
  assert.equal(index.size, 5);
  const hit = index.search([1, 0.5, 0, 0], 2);
  assert.deepEqual(hit.labels, [3, 0]);
  assert.ok(Math.abs(hit.scores[0] - 1.2) < 1e-4, `score ${hit.scores[0]}`);
  assert.ok(Math.abs(hit.scores[1] - 1) < 1e-4, `score ${hit.scores[1]}`);
  assert.deepEqual(index.search([0, 0, 0, 1], 1).labels, [4]);
  assert.deepEqual(index.search([0, 0, 0, 1], 0).labels, []);
});

test('exactTopK and recallAtK', () => {
  const v = new Float32Array([1, 0, 0, 1, 0.5, 0.5]);
  assert.deepEqual(exactTopK(v, 2, [1, 0.1], 2), [0, 2]);
  assert.equal(recallAtK([[1, 2]], [[2, 3]]), 0.5);
});

test('buildAsync gives the same answers as build', async () => {
  const dim = 8;
  const items = new ClusteredVectors(dim, 10, 3).sample(2000);
  const a = AnnIndex.build(items, dim);
  const b = await AnnIndex.buildAsync(items, dim, {}, 100);
  const q = items.subarray(0, dim);
  assert.deepEqual(b.search(q, 10).labels, a.search(q, 10).labels);
});
