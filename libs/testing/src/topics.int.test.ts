import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getTestInfra, uniquePrefix } from './infra';
import { deleteTopicsWithPrefix, testKafka } from './topics';

test("deleteTopicsWithPrefix deletes the run's topics and only those", async () => {
  const kafka = testKafka(await getTestInfra(), 'topics-test');
  const run = uniquePrefix('cleanup');
  const other = uniquePrefix('cleanup-other');
  const admin = kafka.admin();
  await admin.connect();
  try {
    const mine = [`${run}a`, `${run}b`];
    await admin.createTopics({
      topics: [...mine, `${other}a`].map((topic) => ({ topic })),
      waitForLeaders: true,
    });
    assert.deepEqual((await deleteTopicsWithPrefix(kafka, run)).sort(), mine);
    const left = await admin.listTopics();
    assert.deepEqual(
      left.filter((t) => t.startsWith(run)),
      [],
    );
    assert.ok(left.includes(`${other}a`));
    assert.deepEqual(await deleteTopicsWithPrefix(kafka, run), []); // nothing left: no error
  } finally {
    await deleteTopicsWithPrefix(kafka, other);
    await admin.disconnect();
  }
});
