import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Catalog } from './catalog';
import { categoryFirst, finalize, normalize, passes, type Candidate } from './ranking';

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
