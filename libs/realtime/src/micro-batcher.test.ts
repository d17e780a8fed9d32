import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MicroBatcher } from './micro-batcher';

test('requests arriving together run as one batch, in order', async () => {
  const sizes: number[] = [];
  const b = new MicroBatcher((xs: number[]) => xs.map((x) => x * 2), {
    maxBatch: 100,
    maxWaitMs: 0,
    onFlush: (n) => sizes.push(n),
  });
  const out = await Promise.all([1, 2, 3].map((x) => b.submit(x)));
  assert.deepEqual(out, [2, 4, 6]);
  assert.deepEqual(sizes, [3]);
});

test('a full batch flushes at once; a failing run rejects every request of its batch', async () => {
  const sizes: number[] = [];
  const b = new MicroBatcher(async (xs: number[]) => xs, {
    maxBatch: 2,
    maxWaitMs: 1000,
    onFlush: (n) => sizes.push(n),
  });
  const t0 = Date.now();
  assert.deepEqual(await Promise.all([b.submit(1), b.submit(2)]), [1, 2]);
  assert.ok(Date.now() - t0 < 500);
  const bad = new MicroBatcher<number, number>(
    () => {
      throw new Error('boom');
    },
    { maxBatch: 10, maxWaitMs: 1 },
  );
  await assert.rejects(Promise.all([bad.submit(1), bad.submit(2)]), /boom/);
});
