import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Partitioners } from 'kafkajs';
import { fetchTopicEnds, memoizedKeyPartitioner, waitForLeaders } from './kafka';

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

test('waitForLeaders waits through "unknown topic" and "no leader" answers, and names the topics when it gives up', async () => {
  const notYet = (type: string) => Object.assign(new Error(type), { type });
  const answers: (() => unknown)[] = [
    () => {
      throw notYet('UNKNOWN_TOPIC_OR_PARTITION');
    },
    () => {
      throw notYet('LEADER_NOT_AVAILABLE');
    },
    () => ({ topics: [{ name: 't', partitions: [{ partitionId: 0, leader: -1 }] }] }),
    () => ({ topics: [{ name: 't', partitions: [{ partitionId: 0, leader: 1 }] }] }),
  ];
  let calls = 0;
  const admin = {
    fetchTopicMetadata: async () => answers[calls++]!() as never,
  };
  await waitForLeaders(admin, ['t'], 5000, 1);
  assert.equal(calls, 4);

  const never = { fetchTopicMetadata: async () => answers[0]!() as never };
  await assert.rejects(
    waitForLeaders(never, ['a', 'b'], 20, 1),
    /topics a, b have no leader after 20 ms \(UNKNOWN_TOPIC_OR_PARTITION\)/,
  );
  const broken = {
    fetchTopicMetadata: async () => {
      throw notYet('TOPIC_AUTHORIZATION_FAILED');
    },
  };
  await assert.rejects(waitForLeaders(broken, ['t'], 5000, 1), /TOPIC_AUTHORIZATION_FAILED/);
});

test('fetchTopicEnds retries "not the leader yet", gives up at its deadline, and passes other errors through', async () => {
  const fail = (type: string) => Object.assign(new Error(type), { type });
  const ends = [{ partition: 0, offset: '5', high: '5', low: '0' }];
  let calls = 0;
  const settling = {
    fetchTopicOffsets: async () => {
      if (++calls < 3) throw fail('NOT_LEADER_OR_FOLLOWER');
      return ends;
    },
  };
  assert.deepEqual(await fetchTopicEnds(settling, 't', 5000, 1), ends);
  assert.equal(calls, 3);

  const never = {
    fetchTopicOffsets: async () => {
      throw fail('NOT_LEADER_OR_FOLLOWER');
    },
  };
  await assert.rejects(fetchTopicEnds(never, 't', 20, 1), /NOT_LEADER_OR_FOLLOWER/);
  calls = 0;
  const denied = {
    fetchTopicOffsets: async () => {
      calls++;
      throw fail('TOPIC_AUTHORIZATION_FAILED');
    },
  };
  await assert.rejects(fetchTopicEnds(denied, 't', 5000, 1), /TOPIC_AUTHORIZATION_FAILED/);
  assert.equal(calls, 1);
});
