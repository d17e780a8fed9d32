import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AnnIndex } from './ann-index';
import { buildSearcher, LocalSearcher, ThreadSearcher } from './ann-searcher';
import { ClusteredVectors } from './clustered-vectors';

test('the worker-thread index answers as the same index on the caller thread, under concurrent searches', async () => {
  const dim = 16;
  const vectors = new ClusteredVectors(dim, 20, 7);
  const items = vectors.sample(5000);
  const queries = vectors.sample(64);
  const local = AnnIndex.build(items, dim);
  const threaded = await buildSearcher(items, dim);
  assert.ok(threaded instanceof ThreadSearcher);
  assert.equal(threaded.size, 5000);
  try {
    // all 64 issued at once: they queue while the thread is busy and go over in batches
    const hits = await Promise.all(
      Array.from({ length: 64 }, (_, q) => threaded.search(queries.subarray(q * dim, (q + 1) * dim), 10 + q)),
    );
    // the worker calibrated the same index the same way, and says so
    assert.deepEqual({ ...threaded.calibration!, ms: 0 }, { ...local.calibration!, ms: 0 });
    assert.equal(threaded.efSearch, local.efSearch);
    hits.forEach((hit, q) => {
      const expected = local.search(queries.subarray(q * dim, (q + 1) * dim), 10 + q);
      assert.deepEqual(hit.labels, expected.labels, `query ${q}`);
      hit.scores.forEach((s, i) => assert.ok(Math.abs(s - expected.scores[i]!) < 1e-4));
    });
  } finally {
    await threaded.close();
  }
});

test('items added after the build are found on the worker thread; a closed index refuses searches', async () => {
  const dim = 4;
  const searcher = await buildSearcher(new Float32Array([1, 0, 0, 0, 0, 1, 0, 0]), dim, { spareCapacity: 1 });
  searcher.add(2, [0, 0, 1.2, 0]);
  searcher.add(3, [0, 0, 0, 1]); // beyond the spare capacity: the index grows
  assert.equal(searcher.size, 4);
  const hit = await searcher.search([0, 0.1, 1, 0], 2);
  assert.deepEqual(hit.labels, [2, 1]);
  assert.ok(Math.abs(hit.scores[0]! - 1.2) < 1e-4, `score ${hit.scores[0]}`);
  assert.deepEqual((await searcher.search([0, 0, 0, 1], 1)).labels, [3]);
  const pending = searcher.search([1, 0, 0, 0], 1);
  await searcher.close(); // answers what was queued, then stops the thread
  assert.deepEqual((await pending).labels, [0]);
  await assert.rejects(searcher.search([1, 0, 0, 0], 1), /closed/);
});

test('thread: false keeps the index on the caller thread', async () => {
  const searcher = await buildSearcher(new Float32Array([1, 0, 0, 1]), 2, { thread: false });
  assert.ok(!(searcher instanceof ThreadSearcher));
  assert.deepEqual((await searcher.search([0, 1], 1)).labels, [1]);
});

test('a build that fails on the worker thread rejects with the reason', async () => {
  await assert.rejects(buildSearcher(new Float32Array(5), 2), /not a multiple of dim 2/);
});

test('the calibration report comes back from the worker thread, the cap respected', async () => {
  const dim = 16;
  const items = new ClusteredVectors(dim, 20, 4).sample(4000);
  const searcher = await buildSearcher(items, dim, {
    m: 4,
    efConstruction: 20,
    targetRecall: 1,
    maxEfSearch: 130,
  });
  try {
    assert.ok(searcher instanceof ThreadSearcher);
    const cal = searcher.calibration!;
    assert.equal(cal.reached, false);
    assert.equal(cal.efSearch, 130);
    assert.equal(searcher.efSearch, 130);
    assert.equal(cal.queries, 200);
    assert.ok(cal.recall > 0.5 && cal.recall < 1, `recall ${cal.recall}`);
  } finally {
    await searcher.close();
  }
  const off = await buildSearcher(items, dim, { targetRecall: 0, efSearch: 50 });
  assert.equal(off.calibration, undefined);
  assert.equal(off.efSearch, 50);
  await off.close();
});

test("thread: 'build' builds on a worker thread and searches the same graph on the caller's", async () => {
  const dim = 16;
  const vectors = new ClusteredVectors(dim, 20, 11);
  const items = vectors.sample(4000);
  const queries = vectors.sample(32);
  const local = AnnIndex.build(items, dim);
  const loaded = await buildSearcher(items, dim, { thread: 'build' });
  assert.ok(loaded instanceof LocalSearcher);
  assert.equal(loaded.size, 4000);
  assert.equal(loaded.efSearch, local.efSearch);
  assert.deepEqual({ ...loaded.calibration!, ms: 0 }, { ...local.calibration!, ms: 0 });
  for (let q = 0; q < 32; q++) {
    const query = queries.subarray(q * dim, (q + 1) * dim);
    const hit = await loaded.search(query, 50);
    const expected = local.search(query, 50);
    assert.deepEqual(hit.labels, expected.labels, `query ${q}`);
    hit.scores.forEach((s, i) => assert.ok(Math.abs(s - expected.scores[i]!) < 1e-4));
  }
  // the loaded index keeps growing as new items arrive
  loaded.add(
    4000,
    items.subarray(0, dim).map((x) => x * 2),
  );
  assert.equal((await loaded.search(items.subarray(0, dim), 1)).labels[0], 4000);
  await assert.rejects(buildSearcher(new Float32Array(5), 2, { thread: 'build' }), /not a multiple of dim 2/);
});
