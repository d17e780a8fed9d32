import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeUserState, emptyUserState, Interaction, userKey } from '@reco/realtime';
import { uniquePrefix, useTestInfra } from '@reco/testing';
import { UserReader } from './user-reader';

const env = useTestInfra();
const silentLogger = { info: () => undefined, warn: () => undefined } as never;

function stateWith(item: number) {
  return { ...emptyUserState(), updatedAt: 1_700_000_000, recent: [{ item, kind: Interaction.Click }] };
}

test('reads asked for in one turn go to Redis together; each gets its own user, unknown and corrupt ones apart', async () => {
  const prefix = uniquePrefix('user-reader');
  await env.redis.set(userKey(prefix, 'u1'), encodeUserState(stateWith(11)));
  await env.redis.set(userKey(prefix, 'u2'), encodeUserState(stateWith(22)));
  await env.redis.set(userKey(prefix, 'broken'), Buffer.from([0xff, 1, 2, 3, 4, 5]));
  const batches: number[] = [];
  const reader = new UserReader(env.infra.redisUrl, prefix, 1000, silentLogger, (n) => batches.push(n));
  await reader.connect();
  try {
    const [u2, nobody, u1, broken] = await Promise.all(
      ['u2', 'nobody', 'u1', 'broken'].map((u) => reader.read(u)),
    );
    assert.deepEqual(batches, [4]);
    assert.equal(u1!.degraded, false);
    assert.deepEqual(u1!.state?.recent, [{ item: 11, kind: Interaction.Click }]);
    assert.deepEqual(u2!.state?.recent, [{ item: 22, kind: Interaction.Click }]);
    assert.deepEqual(nobody, { state: undefined, degraded: false });
    assert.deepEqual(broken, { state: undefined, degraded: true, reason: 'redis_error' });

    // a read in a later turn is a batch of its own
    const again = await reader.read('u1');
    assert.deepEqual(batches, [4, 1]);
    assert.deepEqual(again.state?.recent, [{ item: 11, kind: Interaction.Click }]);
  } finally {
    await reader.close();
  }
});

test('with Redis away, every read of a batch answers degraded instead of failing', async () => {
  // nothing listens on port 1: the connection is refused
  const reader = new UserReader('redis://127.0.0.1:1', 'p.', 200, silentLogger);
  await reader.connect();
  try {
    const reads = await Promise.all(['a', 'b', 'c'].map((u) => reader.read(u)));
    for (const r of reads) assert.deepEqual(r, { state: undefined, degraded: true, reason: 'redis_error' });
    const single = await reader.read('d');
    assert.deepEqual(single, { state: undefined, degraded: true, reason: 'redis_error' });
  } finally {
    await reader.close();
  }
});
