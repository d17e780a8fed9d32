import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '@reco/platform';
import { loadFeaturesConfig, stateLimits } from './config';

test('defaults apply and every problem names its variable', () => {
  const c = loadFeaturesConfig({ KAFKA_BROKERS: '127.0.0.1:9092', REDIS_URL: 'redis://127.0.0.1:6379' });
  assert.equal(c.FEATURES_MAX_RECENT, 20);
  assert.equal(stateLimits(c).categoryHalfLifeSeconds, 72 * 3600);
  assert.throws(
    () => loadFeaturesConfig({ KAFKA_BROKERS: 'nope', FEATURES_MAX_RECENT: '0' }),
    (err: unknown) =>
      err instanceof ConfigError &&
      /KAFKA_BROKERS/.test(err.message) &&
      /REDIS_URL is required/.test(err.message) &&
      /FEATURES_MAX_RECENT/.test(err.message),
  );
});
