import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { getTestInfra, readTopic, uniquePrefix, type TestInfra, testKafka } from '@reco/testing';

let infra: TestInfra;
before(async () => {
  infra = await getTestInfra();
});
after(async () => {
  await infra?.stop();
});

// Every consumer in the project reads with isolation read_committed and trusts it to hide
// aborted transactions. The broker lists aborted transactions by abort order; kafkajs 2.2.4
// walked that list as if it were sorted by first offset, so a transaction that began first but
// was aborted last (a crashed ingest's open transactions, fenced one producer at a time) leaked
// its records to readers. patches/kafkajs@2.2.4.patch fixes it; this keeps it fixed.
test('a read_committed reader hides transactions aborted in another order than they began', async () => {
  const kafka = testKafka(infra, 'txn-test');
  const topic = `${uniquePrefix('platform-txn')}aborts`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();

  const producer = (id: string) =>
    kafka.producer({ transactionalId: `${topic}-${id}`, idempotent: true, maxInFlightRequests: 1 });
  const early = producer('early');
  const late = producer('late');
  const plain = kafka.producer();
  await Promise.all([early.connect(), late.connect(), plain.connect()]);
  try {
    const t1 = await early.transaction();
    const t2 = await late.transaction();
    await t1.send({ topic, messages: [{ value: 'aborted-began-first' }] });
    await t2.send({ topic, messages: [{ value: 'aborted-began-second' }] });
    await t2.abort(); // aborted first, began second
    await t1.abort();
    const t3 = await early.transaction();
    await t3.send({ topic, messages: [{ value: 'committed' }] });
    await t3.commit();
    await plain.send({ topic, messages: [{ value: 'plain' }] });

    const read = await readTopic(kafka, topic, { expected: 2, timeoutMs: 20_000, quietMs: 500 });
    assert.deepEqual(
      read.map((m) => m.value?.toString()),
      ['committed', 'plain'],
    );
  } finally {
    await Promise.all([early.disconnect(), late.disconnect(), plain.disconnect()]);
  }
});
