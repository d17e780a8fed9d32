import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pseudonymizer, RawUserMemo, pseudonymize } from './pseudonym';

const KEY = 'k'.repeat(32);

test('the pseudonym is stable for a key and differs across keys and users', () => {
  const a = pseudonymize('alice', KEY);
  assert.equal(a, pseudonymize('alice', KEY));
  assert.match(a, /^[0-9a-f]{32}$/);
  assert.notEqual(a, pseudonymize('alice', 'j'.repeat(32)));
  assert.notEqual(a, pseudonymize('bob', KEY));
  assert.ok(!a.includes('alice'));
});

test('the pseudonym is HMAC-SHA256 truncated to 128 bits (vector from openssl)', () => {
  // echo -n alice | openssl dgst -sha256 -hmac <32 x k> | cut -c1-32
  assert.equal(pseudonymize('alice', KEY), '6664a42048c6d6d7fe3657e39b14155c');
  assert.equal(pseudonymize('alice', Buffer.from(KEY)), '6664a42048c6d6d7fe3657e39b14155c');
});

test('the memoizing pseudonymizer gives the same answers and stays bounded', () => {
  const p = new Pseudonymizer(Buffer.from(KEY), 3);
  for (const u of ['a', 'b', 'c', 'd', 'a', 'e']) assert.equal(p.pseudonym(u), pseudonymize(u, KEY));
  assert.ok((p as unknown as { memo: RawUserMemo<string> }).memo.size <= 3);
});

test('a raw-user memo computes once per id while it holds it, and drops the oldest when full', () => {
  const computed: string[] = [];
  const memo = new RawUserMemo((id) => (computed.push(id), id.toUpperCase()), 2);
  assert.equal(memo.get('a'), 'A');
  assert.equal(memo.get('a'), 'A');
  assert.equal(memo.get('b'), 'B');
  assert.equal(memo.get('c'), 'C'); // 'a' goes
  assert.equal(memo.size, 2);
  assert.equal(memo.get('b'), 'B');
  assert.equal(memo.get('a'), 'A');
  assert.deepEqual(computed, ['a', 'b', 'c', 'a']);
});
