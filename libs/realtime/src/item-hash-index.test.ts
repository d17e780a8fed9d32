import { test } from 'node:test';
import assert from 'node:assert/strict';
import { itemHash } from './hashing';
import { ItemHashIndex } from './item-hash-index';

test('ItemHashIndex answers as a Map would, through growth and overwrites', () => {
  const index = new ItemHashIndex(4); // starts small: grows several times below
  const expected = new Map<number, number>();
  for (let i = 0; i < 20_000; i++) {
    const h = itemHash(`item-${i}`);
    index.set(h, i);
    expected.set(h, i);
  }
  // overwrites keep the size and change the value
  for (let i = 0; i < 1000; i += 7) {
    const h = itemHash(`item-${i}`);
    index.set(h, i + 1_000_000);
    expected.set(h, i + 1_000_000);
  }
  assert.equal(index.size, expected.size);
  for (const [h, v] of expected) assert.equal(index.get(h), v);
  for (let i = 20_000; i < 25_000; i++) assert.equal(index.get(itemHash(`item-${i}`)), undefined);
});

test('ItemHashIndex keeps keys that share their low 32 bits apart (46-bit hashes)', () => {
  const index = new ItemHashIndex();
  const low = 123_456;
  for (let hi = 0; hi < 50; hi++) index.set(hi * 2 ** 32 + low, hi);
  for (let hi = 0; hi < 50; hi++) assert.equal(index.get(hi * 2 ** 32 + low), hi);
  assert.equal(index.get(50 * 2 ** 32 + low), undefined);
  assert.equal(index.get(0), undefined);
  index.set(0, 7);
  assert.equal(index.get(0), 7);
});

test('ItemHashIndex refuses values it cannot store', () => {
  const index = new ItemHashIndex();
  assert.throws(() => index.set(1, -1), /non-negative 32-bit integer, got -1/);
  assert.throws(() => index.set(1, 1.5), /got 1.5/);
  assert.throws(() => index.set(1, 2 ** 31), /got 2147483648/);
  assert.equal(index.size, 0);
});
