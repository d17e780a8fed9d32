import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_REQUEST_LIMITS as L,
  ValidationError,
  validateRecommend,
  validateSearch,
  validateSimilar,
} from './validation';

const known = (c: string) => c === 'Shoes';
const f = (o: object) => ({
  categories: [],
  minPrice: 0,
  maxPrice: 0,
  inStockOnly: false,
  excludeItemIds: [],
  ...o,
});
const field = (run: () => void) => {
  try {
    run();
  } catch (err) {
    assert.ok(err instanceof ValidationError);
    return err.field;
  }
  return 'valid';
};

test('each bad field is named', () => {
  const r = (o: object) => () =>
    validateRecommend({ userId: 'u', k: 10, context: undefined, filters: undefined, ...o }, L, known);
  assert.equal(field(r({})), 'valid');
  assert.equal(field(r({ userId: '' })), 'user_id');
  assert.equal(field(r({ userId: 'x'.repeat(129) })), 'user_id');
  assert.equal(field(r({ k: 0 })), 'k');
  assert.equal(field(r({ k: 101 })), 'k');
  assert.equal(field(r({ context: { device: '', page: '', itemId: 'y'.repeat(500) } })), 'context.item_id');
  assert.equal(field(r({ filters: f({ categories: ['Hats'] }) })), 'filters.categories[0]');
  assert.equal(field(r({ filters: f({ categories: ['Shoes', ''] }) })), 'filters.categories[1]');
  assert.equal(field(r({ filters: f({ minPrice: -1 }) })), 'filters.min_price');
  assert.equal(field(r({ filters: f({ maxPrice: Number.NaN }) })), 'filters.max_price');
  assert.equal(field(r({ filters: f({ minPrice: 5, maxPrice: 2 }) })), 'filters.min_price');
  assert.equal(
    field(r({ filters: f({ excludeItemIds: Array(201).fill('a') }) })),
    'filters.exclude_item_ids',
  );
  assert.equal(
    field(() => validateSimilar({ itemId: '', k: 1, filters: undefined }, L, known)),
    'item_id',
  );
  assert.equal(
    field(() => validateSearch({ query: '', userId: '', k: 1, filters: undefined }, L, known)),
    'query',
  );
  assert.equal(
    field(() => validateSearch({ query: 'q'.repeat(300), userId: '', k: 1, filters: undefined }, L, known)),
    'query',
  );
  assert.equal(
    field(() => validateSearch({ query: 'ok', userId: '', k: 1, filters: undefined }, L, known)),
    'valid',
  );
});
