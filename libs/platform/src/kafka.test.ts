import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Partitioners } from 'kafkajs';
import { memoizedKeyPartitioner } from './kafka';

test('the memoized partitioner picks the same partitions as kafkajs default', () => {
  const memo = memoizedKeyPartitioner();
  const plain = Partitioners.DefaultPartitioner();
  const partitionMetadata = [0, 1, 2, 3, 4, 5].map((partitionId) => ({
    partitionId,
    leader: 1,
    partitionErrorCode: 0,
    replicas: [1],
    isr: [1],
  }));
  for (let i = 0; i < 500; i++) {
    const message = { key: `user-${i % 120}`, value: 'x' };
    const args = { topic: 't', partitionMetadata, message };
    assert.equal(memo(args), plain(args));
  }
  assert.equal(memo({ topic: 't', partitionMetadata, message: { key: 'k', value: 'x', partition: 4 } }), 4);
  // Another topic, or the same one after it grew, is not answered from the first one's memo.
  const grown = [...partitionMetadata, { ...partitionMetadata[0]!, partitionId: 6 }];
  for (let i = 0; i < 200; i++) {
    const message = { key: Buffer.from(`user-${i % 120}`), value: 'x' };
    assert.equal(
      memo({ topic: 't', partitionMetadata: grown, message }),
      plain({ topic: 't', partitionMetadata: grown, message }),
    );
    assert.equal(
      memo({ topic: 'u', partitionMetadata, message }),
      plain({ topic: 'u', partitionMetadata, message }),
    );
  }
});
