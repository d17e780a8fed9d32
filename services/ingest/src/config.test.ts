import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '@reco/platform';
import { loadIngestConfig } from './config';

test('missing settings stop start-up with every missing name listed', () => {
  assert.throws(
    () => loadIngestConfig({}),
    (err: unknown) =>
      err instanceof ConfigError &&
      /KAFKA_BROKERS is required/.test(err.message) &&
      /REDIS_URL is required/.test(err.message) &&
      /RECO_PSEUDONYMIZATION_KEY is required/.test(err.message),
  );
});

test('malformed settings are named with what is wrong', () => {
  assert.throws(
    () =>
      loadIngestConfig({
        KAFKA_BROKERS: 'localhost',
        REDIS_URL: 'http://x',
        RECO_PSEUDONYMIZATION_KEY: 'short',
        INGEST_DEDUP_WINDOW_SECONDS: '-5',
        REDIS_KEY_PREFIX: 'shop{1}:',
      }),
    (err: unknown) =>
      err instanceof ConfigError &&
      /KAFKA_BROKERS: expected host:port/.test(err.message) &&
      /REDIS_URL: expected redis:\/\//.test(err.message) &&
      /RECO_PSEUDONYMIZATION_KEY: must be at least 32/.test(err.message) &&
      /INGEST_DEDUP_WINDOW_SECONDS/.test(err.message) &&
      /REDIS_KEY_PREFIX: must not contain \{ or \}/.test(err.message),
  );
});

test('good settings parse with defaults', () => {
  const c = loadIngestConfig({
    KAFKA_BROKERS: '127.0.0.1:9092, 127.0.0.1:9093',
    REDIS_URL: 'redis://127.0.0.1:6379',
    RECO_PSEUDONYMIZATION_KEY: 'z'.repeat(32),
  });
  assert.deepEqual(c.KAFKA_BROKERS, ['127.0.0.1:9092', '127.0.0.1:9093']);
  assert.equal(c.INGEST_DEDUP_WINDOW_SECONDS, 86400);
  assert.equal(c.INGEST_ALLOW_UNKNOWN_JSON_FIELDS, false);
});
