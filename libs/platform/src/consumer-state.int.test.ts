import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { getTestInfra, uniquePrefix, type TestInfra, testKafka } from '@reco/testing';
import { ConsumerState } from './consumer-state';
import { createLogger } from './logger';

let infra: TestInfra;
before(async () => {
  infra = await getTestInfra();
});
after(async () => {
  await infra?.stop();
});

const logger = createLogger('consumer-state-test', 'fatal');

/** A consumer of a new one-partition topic, with its ConsumerState and what it gave up on. */
async function watchedConsumer(name: string, sessionTimeout: number) {
  const topic = await topicFor(name);
  const consumer = testKafka(infra, 'consumer-state-test').consumer({
    groupId: `${topic}-group`,
    sessionTimeout,
    heartbeatInterval: Math.floor(sessionTimeout / 3),
  });
  const givenUp: Error[] = [];
  const state = new ConsumerState(logger, (err) => givenUp.push(err));
  state.watch(consumer);
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  return { consumer, state, givenUp };
}

async function topicFor(name: string): Promise<string> {
  const kafka = testKafka(infra, 'consumer-state-test');
  const topic = `${uniquePrefix('platform-consumer-state')}${name}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
  return topic;
}

test('a consumer whose first join fails for good is not consuming after run() resolves', async () => {
  // Below the broker's group.min.session.timeout.ms (6 s): the join is refused with
  // INVALID_SESSION_TIMEOUT, which kafkajs does not retry or restart from.
  const { consumer, state, givenUp } = await watchedConsumer('refused', 1000);
  await consumer.run({ eachMessage: async () => undefined }); // resolves: the crash is handled inside
  try {
    assert.equal(state.isConsuming, false, 'a flag set after run() would say true here');
    assert.equal(givenUp.length, 1);
    assert.match(String(givenUp[0]), /session timeout/i);
  } finally {
    await consumer.disconnect();
  }
});

test('a consumer is consuming once it joined, and not after it stopped', async () => {
  const { consumer, state, givenUp } = await watchedConsumer('joined', 6000);
  assert.equal(state.isConsuming, false, 'not before it joined');
  try {
    await consumer.run({ eachMessage: async () => undefined }); // resolves after the first join
    assert.equal(state.isConsuming, true);
  } finally {
    await consumer.disconnect();
  }
  assert.equal(state.isConsuming, false);
  assert.deepEqual(givenUp, []);
});
