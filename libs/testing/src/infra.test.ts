import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NO_INFRA_MESSAGE, getTestInfra, uniquePrefix } from './infra';

test('KAFKA_BROKERS and REDIS_URL name the servers when set', async () => {
  const infra = await getTestInfra({ KAFKA_BROKERS: 'h1:9092, h2:9092', REDIS_URL: 'redis://h3:6379' });
  assert.deepEqual(infra.kafkaBrokers, ['h1:9092', 'h2:9092']);
  assert.equal(infra.redisUrl, 'redis://h3:6379');
  assert.equal(infra.source, 'env');
});

test('the message for a machine without servers names the command that starts them', () => {
  assert.match(NO_INFRA_MESSAGE, /pnpm infra:up/);
  assert.match(NO_INFRA_MESSAGE, /KAFKA_BROKERS=127\.0\.0\.1:9092/);
});

test('prefixes are unique per call', () => {
  assert.notEqual(uniquePrefix('x'), uniquePrefix('x'));
  assert.match(uniquePrefix('ingest'), /^test\.ingest\.[a-z0-9]+\.$/);
});
