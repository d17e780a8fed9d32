import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHalf, toHalf } from './float16';
import { hash32, itemHash } from './hashing';
import { userIdOfKey, userKey, userKeyPattern } from './keys';
import { Interaction, decodeUserState, emptyUserState, encodeUserState, type UserState } from './user-state';

test('float16 round trip keeps 3 significant digits and the special values', () => {
  for (const x of [0, 1, -1, 0.5, 3.14159, -0.0123, 65504, 1e-5])
    assert.ok(
      Math.abs(fromHalf(toHalf(x)) - x) <= Math.abs(x) * 1e-3 + 1e-7,
      `${x} -> ${fromHalf(toHalf(x))}`,
    );
  assert.equal(fromHalf(toHalf(1e6)), Infinity);
  assert.ok(Number.isNaN(fromHalf(toHalf(NaN))));
});

test('item hashes are stable 46-bit integers without collisions on 200k ids', () => {
  assert.equal(itemHash('item-1'), itemHash('item-1'));
  const seen = new Set<number>();
  for (let i = 0; i < 200_000; i++) {
    const h = itemHash(`item-${i}`);
    assert.ok(Number.isSafeInteger(h) && h >= 0 && h < 2 ** 46);
    seen.add(h);
  }
  assert.equal(seen.size, 200_000);
  assert.ok(hash32('a') >= 0 && hash32('a') < 2 ** 32);
});

test('user state survives encode/decode; 20 recent items and a 64-d vector fit in about 300 bytes', () => {
  const values = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i) * 0.7);
  const state: UserState = {
    updatedAt: 1_800_000_000,
    recent: Array.from({ length: 20 }, (_, i) => ({
      item: itemHash(`item-${i}`),
      kind: (i % 4) as Interaction,
    })),
    bought: [itemHash('item-3')],
    categories: [{ category: hash32('Beauty/Face'), score: 3.5, lastSeen: 1_799_999_000 }],
    vector: { modelTag: hash32('sasrec-1'), values },
  };
  const bytes = encodeUserState(state);
  assert.ok(bytes.length <= 310, `${bytes.length} bytes`);
  const back = decodeUserState(bytes);
  assert.deepEqual(back.recent, state.recent);
  assert.deepEqual(back.bought, state.bought);
  assert.equal(back.updatedAt, state.updatedAt);
  assert.deepEqual(back.categories, state.categories);
  assert.equal(back.vector!.modelTag, state.vector!.modelTag);
  for (let i = 0; i < 64; i++) assert.ok(Math.abs(back.vector!.values[i] - values[i]) < 1e-3);
  assert.deepEqual(decodeUserState(encodeUserState(emptyUserState())), emptyUserState());
  assert.throws(() => decodeUserState(Buffer.from([9, 0, 0, 0, 0])), /unknown format/);
});

test('user keys carry the {u:<id>} hash tag and can be found again by SCAN', () => {
  assert.equal(userKey('reco:', 'abc'), 'reco:{u:abc}');
  assert.equal(userIdOfKey('reco:', 'reco:{u:abc}'), 'abc');
  assert.equal(userIdOfKey('reco:', 'reco:{pop}:w1h'), undefined);
  assert.equal(userKeyPattern('a*b:'), 'a\\*b:{u:*');
});
