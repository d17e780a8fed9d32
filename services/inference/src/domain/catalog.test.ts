import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Catalog, newestFirst, type ItemFacts } from './catalog';

const item = (itemId: string, createdAt: number, inStock = true): Omit<ItemFacts, 'category'> => ({
  itemId,
  title: itemId,
  brand: '',
  categoryPath: ['A'],
  price: 1,
  inStock,
  createdAt,
});

test('newestFirst keeps the newest in-stock items, newest first, as a full sort would', () => {
  let seed = 9;
  const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296;
  const items = Array.from({ length: 5000 }, (_, i) => ({
    ...item(`i${i}`, Math.floor(rand() * 2000), rand() > 0.1),
    category: 'A',
  }));
  const sorted = items
    .map((it, seq) => ({ it, seq }))
    .filter((x) => x.it.inStock)
    .sort((a, b) => b.it.createdAt - a.it.createdAt || a.seq - b.seq)
    .map((x) => x.it.itemId);
  for (const limit of [1, 7, 100, 6000])
    assert.deepEqual(
      newestFirst(items, limit).map((i) => i.itemId),
      sorted.slice(0, limit),
    );
  assert.deepEqual(newestFirst(items, 0), []);
});

test('the catalog recomputes its newest items only after it changed', () => {
  const catalog = new Catalog();
  catalog.upsert(item('old', 1));
  catalog.upsert(item('new', 5));
  catalog.upsert(item('gone', 9, false));
  const first = catalog.newestInStock(10);
  assert.deepEqual(
    first.map((i) => i.itemId),
    ['new', 'old'],
  );
  assert.equal(catalog.newestInStock(10), first, 'unchanged catalog: the same list, not recomputed');
  catalog.upsert(item('newer', 7));
  assert.deepEqual(
    catalog.newestInStock(10).map((i) => i.itemId),
    ['newer', 'new', 'old'],
  );
  catalog.remove('new');
  assert.deepEqual(
    catalog.newestInStock(10).map((i) => i.itemId),
    ['newer', 'old'],
  );
});

test('items of one category share its path and key, and an item moved to another category leaves the old counts', () => {
  const catalog = new Catalog();
  const a = catalog.upsert({ ...item('a', 1), categoryPath: ['Shoes', 'Trail'] });
  const b = catalog.upsert({ ...item('b', 1), categoryPath: ['Shoes', 'Trail'] });
  assert.equal(a.categoryPath, b.categoryPath, 'one array for the category');
  assert.equal(a.category, 'Shoes/Trail');
  assert.deepEqual(a.categoryPath, ['Shoes', 'Trail']);
  assert.ok(Object.isFrozen(a.categoryPath));
  const c = catalog.upsert({ ...item('c', 1), categoryPath: ['Shoes'] });
  assert.notEqual(c.categoryPath, a.categoryPath, 'a different path is a different entry');
  catalog.upsert({ ...item('a', 1), categoryPath: ['Hats'] });
  catalog.upsert({ ...item('b', 1), categoryPath: ['Hats'] });
  assert.equal(catalog.get('a')!.category, 'Hats');
  assert.ok(catalog.isKnownCategory('Hats'));
  assert.ok(catalog.isKnownCategory('Shoes'), 'item c is still under Shoes');
  catalog.remove('c');
  assert.ok(!catalog.isKnownCategory('Shoes'));
});
