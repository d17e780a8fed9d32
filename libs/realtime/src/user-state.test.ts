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

test('user state survives encode/decode; 20 recent items and a 64-d vector stay under 252 bytes', () => {
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
  // Redis keeps a value of up to 252 bytes in its 256-byte allocation class (MEMORY USAGE 344
  // bytes per user with a 32-character pseudonym, against 408 for the next class).
  assert.ok(bytes.length <= 252, `${bytes.length} bytes`);
  const back = decodeUserState(bytes);
  assert.deepEqual(back.recent, state.recent);
  assert.deepEqual(back.bought, state.bought);
  assert.equal(back.updatedAt, state.updatedAt);
  assert.deepEqual(back.categories, state.categories);
  assert.equal(back.vector!.modelTag, state.vector!.modelTag);
  // int8 with one scale per vector: error at most max|v| / 254 per component
  for (let i = 0; i < 64; i++) assert.ok(Math.abs(back.vector!.values[i] - values[i]) <= 0.7 / 254 + 1e-7);
  assert.deepEqual(decodeUserState(encodeUserState(emptyUserState())), emptyUserState());
  assert.throws(() => decodeUserState(Buffer.from([9, 0, 0, 0, 0])), /unknown format/);
});

test('user keys carry the {u:<id>} hash tag and can be found again by SCAN', () => {
  assert.equal(userKey('reco:', 'abc'), 'reco:{u:abc}');
  assert.equal(userIdOfKey('reco:', 'reco:{u:abc}'), 'abc');
  assert.equal(userIdOfKey('reco:', 'reco:{pop}:w1h'), undefined);
  assert.equal(userKeyPattern('a*b:'), 'a\\*b:{u:*');
});

test('vectors written as f16 by earlier versions are still read', () => {
  const values = Float32Array.from({ length: 8 }, (_, i) => i / 10 - 0.3);
  const state: UserState = { ...emptyUserState(), updatedAt: 5, vector: { modelTag: 7, values } };
  const int8 = encodeUserState(state);
  // the same state in the f16 layout: ... | u8 1 | u32 tag | u16 dim | dim x f16
  const head = int8.subarray(0, int8.length - (1 + 6 + 4 + 8));
  const f16 = Buffer.alloc(head.length + 1 + 6 + 16);
  head.copy(f16);
  let o = f16.writeUInt8(1, head.length);
  o = f16.writeUInt32LE(7, o);
  o = f16.writeUInt16LE(8, o);
  for (const v of values) o = f16.writeUInt16LE(toHalf(v), o);
  const back = decodeUserState(f16);
  assert.equal(back.vector!.modelTag, 7);
  for (let i = 0; i < 8; i++) assert.ok(Math.abs(back.vector!.values[i] - values[i]) < 1e-3);
});

test('int8 interest vectors keep the exact top-10 by dot product almost always', () => {
  // 200 random users against 5,000 random items: what the quantization changes in ranking.
  let seed = 3;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296) * 2 - 1;
  const dim = 64;
  const items = Float32Array.from({ length: 5000 * dim }, rand);
  const top10 = (u: Float32Array) =>
    Array.from({ length: 5000 }, (_, j) => {
      let s = 0;
      for (let d = 0; d < dim; d++) s += u[d] * items[j * dim + d];
      return { j, s };
    })
      .sort((a, b) => b.s - a.s)
      .slice(0, 10)
      .map((x) => x.j);
  let kept = 0;
  for (let u = 0; u < 200; u++) {
    const values = Float32Array.from({ length: dim }, rand);
    const back = decodeUserState(encodeUserState({ ...emptyUserState(), vector: { modelTag: 1, values } }))
      .vector!.values;
    const exact = new Set(top10(values));
    kept += top10(back).filter((j) => exact.has(j)).length;
  }
  console.log(`int8 vectors: top-10 overlap with float vectors ${kept / 2000} (200 users, 5,000 items)`);
  assert.ok(kept / 2000 >= 0.97, `top-10 overlap ${kept / 2000}`);
});
