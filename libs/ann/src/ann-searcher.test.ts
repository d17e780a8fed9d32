import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AnnIndex } from './ann-index';
import { buildSearcher, LocalSearcher, SearcherPool, ThreadSearcher, type AnnSearcher } from './ann-searcher';
import { ClusteredVectors } from './clustered-vectors';

const dim = 16;

/** n clustered items, q queries from the same clusters, and the index built on this thread. */
function fixture(seed: number, n: number, q: number) {
  const vectors = new ClusteredVectors(dim, 20, seed);
  const items = vectors.sample(n);
  const drawn = vectors.sample(q);
  const queries = Array.from({ length: q }, (_, i) => drawn.subarray(i * dim, (i + 1) * dim));
  return { items, queries, local: AnnIndex.build(items, dim) };
}

/** `searcher` was calibrated as `local` was, and its hits (one per query, k = ks[i]) are local's. */
function assertSameAsLocal(
  searcher: AnnSearcher,
  local: AnnIndex,
  queries: Float32Array[],
  ks: number[],
  hits: { labels: number[]; scores: number[] }[],
) {
  assert.deepEqual({ ...searcher.calibration!, ms: 0 }, { ...local.calibration!, ms: 0 });
  assert.equal(searcher.efSearch, local.efSearch);
  hits.forEach((hit, q) => {
    const expected = local.search(queries[q]!, ks[q]!);
    assert.deepEqual(hit.labels, expected.labels, `query ${q}`);
    hit.scores.forEach((s, i) => assert.ok(Math.abs(s - expected.scores[i]!) < 1e-4));
  });
}

test('the worker-thread index answers as the same index on the caller thread, under concurrent searches', async () => {
  const { items, queries, local } = fixture(7, 5000, 64);
  const batches: number[] = [];
  const threaded = await buildSearcher(items, dim, { onBatch: (n) => batches.push(n) });
  assert.ok(threaded instanceof ThreadSearcher);
  assert.equal(threaded.size, 5000);
  try {
    // the searches asked for in one turn go in one message: 4, then the other 60, a batch
    // larger than the first one's shared exchange (it grows)
    const ks = queries.map((_, q) => 10 + q);
    const search = (from: number, to: number) =>
      Promise.all(queries.slice(from, to).map((query, i) => threaded.search(query, ks[from + i]!)));
    const hits = [...(await search(0, 4)), ...(await search(4, 64))];
    assert.deepEqual(batches, [4, 60]);
    // the worker calibrated the same index the same way, and says so
    assertSameAsLocal(threaded, local, queries, ks, hits);
  } finally {
    await threaded.close();
  }
});

test('a pool of two threads answers as the same index, splits one turn\u2019s searches between them, and adds items to both copies', async () => {
  const { items, queries, local } = fixture(11, 3000, 16);
  const batches: number[] = [];
  const pool = await buildSearcher(items, dim, { threads: 2, onBatch: (n) => batches.push(n) });
  assert.ok(pool instanceof SearcherPool);
  assert.equal(pool.threads, 2);
  try {
    const ks = queries.map(() => 20);
    const hits = await Promise.all(queries.map((q) => pool.search(q, 20)));
    // 16 searches asked for in one turn, both threads idle: eight each, one message each
    assert.deepEqual(batches, [8, 8]);
    // the second thread loaded the first one's build: same calibration, same answers
    assertSameAsLocal(pool, local, queries, ks, hits);
    // an item added after the build, far out along one axis: every copy finds it first
    const far = new Float32Array(dim);
    far[0] = 50;
    pool.add(3000, far);
    assert.equal(pool.size, 3001);
    const found = await Promise.all([0, 1, 2, 3].map(() => pool.search(far, 1)));
    assert.deepEqual(batches.slice(2), [2, 2]);
    for (const f of found) assert.deepEqual(f.labels, [3000]);
  } finally {
    await pool.close();
  }
  await assert.rejects(buildSearcher(items, dim, { threads: 0 }), /threads: 0 is not a count/);
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
  // k beyond the index's size: every item, best first
  assert.deepEqual((await searcher.search([0, 0, 0.5, 1], 1000)).labels.slice(0, 2), [3, 2]);
  assert.equal((await searcher.search([0, 0, 0, 1], 1000)).labels.length, 4);
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
  const { items, queries, local } = fixture(11, 4000, 32);
  const loaded = await buildSearcher(items, dim, { thread: 'build' });
  assert.ok(loaded instanceof LocalSearcher);
  assert.equal(loaded.size, 4000);
  const ks = queries.map(() => 50);
  const hits = [];
  for (const query of queries) hits.push(await loaded.search(query, 50));
  assertSameAsLocal(loaded, local, queries, ks, hits);
  // the loaded index keeps growing as new items arrive
  loaded.add(
    4000,
    items.subarray(0, dim).map((x) => x * 2),
  );
  assert.equal((await loaded.search(items.subarray(0, dim), 1)).labels[0], 4000);
  await assert.rejects(buildSearcher(new Float32Array(5), 2, { thread: 'build' }), /not a multiple of dim 2/);
});
