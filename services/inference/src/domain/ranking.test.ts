import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Catalog } from './catalog';
import {
  BestFirst,
  bestFirstOrder,
  categoryFirst,
  finalize,
  finalizeBestFirst,
  normalize,
  passes,
  type Candidate,
} from './ranking';

const catalog = new Catalog();
for (let i = 0; i < 10; i++)
  catalog.upsert({
    itemId: `i${i}`,
    title: `t${i}`,
    brand: '',
    categoryPath: i < 6 ? ['A', 'x'] : ['B'],
    price: i * 10,
    inStock: i !== 2,
    createdAt: i === 9 ? 2000 : 0,
  });
const ctx = (over = {}) => ({
  filters: undefined,
  exclude: new Set<string>(),
  maxCategoryShare: 1,
  newArrivalSince: 1000,
  facts: (id: string) => catalog.get(id),
  ...over,
});
const cands: Candidate[] = Array.from({ length: 10 }, (_, i) => ({
  itemId: `i${i}`,
  score: 10 - i,
  reason: 'r',
}));
const f = (o: object) => ({
  categories: [],
  minPrice: 0,
  maxPrice: 0,
  inStockOnly: false,
  excludeItemIds: [],
  ...o,
});

test('best first; excluded, out-of-stock and unknown items dropped; new arrivals labelled', () => {
  const out = finalize(
    [...cands, { itemId: 'ghost', score: 99, reason: 'r' }],
    10,
    ctx({ exclude: new Set(['i0']) }),
  );
  assert.deepEqual(
    out.map((r) => r.itemId),
    ['i1', 'i3', 'i4', 'i5', 'i6', 'i7', 'i8', 'i9'],
  );
  assert.equal(out.at(-1)!.reason, 'new arrival');
  assert.equal(out[0].reason, 'r');
});

test('filters: category prefix, price range, exclusions', () => {
  const out = finalize(
    cands,
    10,
    ctx({ filters: f({ categories: ['A'], minPrice: 20, maxPrice: 40, excludeItemIds: ['i3'] }) }),
  );
  assert.deepEqual(
    out.map((r) => r.itemId),
    ['i4'],
  );
  assert.equal(passes(catalog.get('i6'), f({ categories: ['A/x'] })), false);
  assert.equal(passes(catalog.get('i2'), undefined, false), true, 'search may show out-of-stock items');
  assert.equal(passes(catalog.get('i2'), f({ inStockOnly: true }), false), false);
});

test('diversity: at most ceil(share * k) from one category, relaxed only to fill k', () => {
  const out = finalize(cands, 4, ctx({ maxCategoryShare: 0.5 }));
  assert.deepEqual(
    out.map((r) => r.itemId),
    ['i0', 'i1', 'i6', 'i7'],
  );
  const onlyA = finalize(cands.slice(0, 6), 4, ctx({ maxCategoryShare: 0.25 }));
  assert.equal(onlyA.length, 4, 'a short answer is filled from the capped category');
});

test('catalog: known category prefixes, hashes back to ids', () => {
  assert.ok(catalog.isKnownCategory('A'));
  assert.ok(catalog.isKnownCategory('A/x'));
  assert.ok(!catalog.isKnownCategory('A/y'));
  assert.deepEqual(normalize([1, 3]), [0, 1]);
  assert.deepEqual(normalize([2, 2]), [1, 1]);
});

test('categoryFirst boosts the context category by 1 and keeps the order best first', () => {
  const c = (itemId: string, score: number, category: string) => ({ itemId, score, reason: '', category });
  const ranked = categoryFirst(
    [c('a', 5, 'x'), c('b', 4.5, 'y'), c('c', 3.8, 'x'), c('d', 2, 'y'), c('e', 0.5, 'y')],
    'y',
  );
  assert.deepEqual(
    ranked.map((r) => [r.itemId, r.score]),
    [
      ['b', 5.5],
      ['a', 5],
      ['c', 3.8],
      ['d', 3],
      ['e', 1.5],
    ],
  );
  const none = [c('a', 1, 'x')];
  assert.equal(categoryFirst(none, 'z'), none); // nothing to boost: the same list
});

test('bestFirstOrder: positions by score, best first, ties in position order', () => {
  assert.deepEqual([...bestFirstOrder([0.5, 2, 0.5, -1, 2])], [1, 4, 0, 2, 3]);
  assert.deepEqual([...bestFirstOrder(new Float32Array(0))], []);
});

test('BestFirst gives the order of a stable sort by score, best first, however few ranks are read', () => {
  let seed = 11;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let round = 0; round < 200; round++) {
    const n = Math.floor(rand() * 200);
    // few distinct values: many ties, negative scores and zeros among them
    const scores = Float32Array.from(
      { length: n },
      () => Math.floor(rand() * 9) - 4 + (rand() < 0.3 ? 0.5 : 0),
    );
    const stable = [...scores.keys()].sort((a, b) => scores[b] - scores[a]);
    const ranks = new BestFirst(scores);
    assert.equal(ranks.length, n);
    const read = Math.floor(rand() * (n + 1));
    const got = Array.from({ length: read }, (_, r) => ranks.at(r));
    assert.deepEqual(got, stable.slice(0, read), `round ${round}`);
    // an earlier rank read again answers the same
    if (read > 0) assert.equal(ranks.at(0), stable[0]);
  }
  assert.throws(() => new BestFirst([1, 2]).at(2), /rank 2 of 2/);
});

test('finalizeBestFirst over bestFirstOrder ranks as finalize does, asking only for the candidates it reaches', () => {
  // random candidates with tied scores, repeated ids, unknown ids, filters and a category cap
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let round = 0; round < 300; round++) {
    const n = Math.floor(rand() * 40);
    const scores = Float32Array.from({ length: n }, () => Math.floor(rand() * 6));
    const ids = Array.from({ length: n }, () => (rand() < 0.1 ? 'ghost' : `i${Math.floor(rand() * 10)}`));
    const k = 1 + Math.floor(rand() * 8);
    const c = ctx({
      exclude: new Set(rand() < 0.5 ? ['i1'] : []),
      maxCategoryShare: rand() < 0.5 ? 1 : 0.3,
      filters: rand() < 0.3 ? f({ maxPrice: 60, excludeItemIds: ['i4'] }) : undefined,
    });
    const candidates = ids.map((itemId, i) => ({ itemId, score: scores[i], reason: `r${i}` }));
    const order = bestFirstOrder(scores);
    let asked = 0;
    const lazy = finalizeBestFirst(
      n,
      (rank) => {
        asked++;
        return candidates[order[rank]];
      },
      k,
      c,
    );
    assert.deepEqual(lazy, finalize(candidates, k, c), `round ${round}`);
    assert.ok(asked <= n);
  }
});

test('finalizeBestFirst stops asking once the answer is full', () => {
  let asked = 0;
  const out = finalizeBestFirst(
    10,
    (rank) => {
      asked++;
      return cands[rank];
    },
    3,
    ctx(),
  );
  assert.deepEqual(
    out.map((r) => r.itemId),
    ['i0', 'i1', 'i3'], // i2 is out of stock
  );
  assert.equal(asked, 4);
});
