import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CatalogItem } from '@reco/contracts';
import { decodeCatalogItem, validateCatalogItem } from './catalog-item';
import { DEFAULT_LIMITS } from './limits';

const NOW = Date.parse('2026-11-28T12:00:00Z');
const item = {
  item_id: 'sku-1',
  title: 'Rose face cream',
  description: 'A cream.',
  category_path: ['Beauty', 'Skin Care'],
  brand: 'Acme',
  price: 12.5,
  currency: 'EUR',
  in_stock: true,
  created_at: '2026-01-01T00:00:00Z',
  attributes: { size: '50ml' },
};

const check = (obj: unknown) => {
  const d = decodeCatalogItem(Buffer.from(JSON.stringify(obj)), 'application/json', DEFAULT_LIMITS);
  return d.ok ? (validateCatalogItem(d.value, NOW, DEFAULT_LIMITS) ?? 'valid') : d.rejection;
};

test('a complete item is valid and JSON and binary decode alike', () => {
  assert.equal(check(item), 'valid');
  const d = decodeCatalogItem(Buffer.from(JSON.stringify(item)), undefined, DEFAULT_LIMITS);
  assert.ok(d.ok);
  const b = decodeCatalogItem(
    Buffer.from(CatalogItem.encode(d.value).finish()),
    'application/x-protobuf',
    DEFAULT_LIMITS,
  );
  assert.ok(b.ok);
  assert.deepEqual(b.value, d.value);
});

for (const [name, obj, reason, field] of [
  ['no id', { ...item, item_id: '' }, 'missing_field', 'item_id'],
  ['no title', { ...item, title: ' ' }, 'missing_field', 'title'],
  ['bad currency', { ...item, currency: 'euro' }, 'invalid_chars', 'currency'],
  ['negative price', { ...item, price: -1 }, 'negative', 'price'],
  ['category path not strings', { ...item, category_path: [1] }, 'invalid_type', 'category_path'],
  ['empty category name', { ...item, category_path: ['Beauty', ''] }, 'missing_field', 'category_path'],
  ['in_stock not a bool', { ...item, in_stock: 'yes' }, 'invalid_type', 'in_stock'],
  [
    'created in the future',
    { ...item, created_at: '2027-01-01T00:00:00Z' },
    'timestamp_in_future',
    'created_at',
  ],
] as [string, unknown, string, string][]) {
  test(`catalog rule: ${name}`, () => {
    const r = check(obj) as { reason: string; field: string };
    assert.deepEqual([r.reason, r.field], [reason, field]);
  });
}
