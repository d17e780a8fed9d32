import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

// patches/kafkajs@2.2.4.patch: kafkajs grouped a send's messages by partition by copying the
// partition's array for every message, O(n^2): 24 ms for a 7,500-message transaction of ingest,
// 7.8 s for 100,000.
const N = 100_000;
type Group = (args: {
  topic: string;
  partitionMetadata: { partitionId: number }[];
  messages: { key: string }[];
  partitioner: (args: { message: { key: string } }) => number;
}) => Record<string, { key: string }[]>;
const groupMessagesPerPartition = createRequire(require.resolve('kafkajs'))(
  './src/producer/groupMessagesPerPartition',
) as Group;

test('kafkajs groups a large send by partition in linear time, keeping message order', () => {
  const partitionMetadata = Array.from({ length: 6 }, (_, partitionId) => ({ partitionId }));
  const messages = Array.from({ length: N }, (_, i) => ({ key: String(i) }));
  const started = process.hrtime.bigint();
  const grouped = groupMessagesPerPartition({
    topic: 't',
    partitionMetadata,
    messages,
    partitioner: ({ message }) => Number(message.key) % 6,
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  assert.deepEqual(Object.keys(grouped).sort(), ['0', '1', '2', '3', '4', '5']);
  for (const [partition, list] of Object.entries(grouped)) {
    assert.equal(list.length, Math.ceil((N - Number(partition)) / 6));
    list.forEach((m, i) => assert.equal(Number(m.key), i * 6 + Number(partition), 'in send order'));
  }
  assert.ok(ms < 1000, `grouping ${N} messages took ${ms.toFixed(0)} ms`);
  assert.deepEqual(
    groupMessagesPerPartition({ topic: 't', partitionMetadata: [], messages, partitioner: () => 0 }),
    {},
  );
});
