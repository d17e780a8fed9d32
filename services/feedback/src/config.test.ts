import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '@reco/platform';
import { attributionOptions, loadFeedbackConfig } from './config';

const BASE = { KAFKA_BROKERS: '127.0.0.1:9092', REDIS_URL: 'redis://127.0.0.1:6379' };

const problems = (env: Record<string, string>): string[] => {
  try {
    loadFeedbackConfig({ ...BASE, ...env });
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems;
  }
  assert.fail('expected a ConfigError');
};

test('defaults: 30 min window, 10 s lateness, one live arm', () => {
  const config = loadFeedbackConfig(BASE);
  assert.deepEqual(attributionOptions(config), {
    windowMs: 30 * 60_000,
    allowedLatenessMs: 10_000,
    idleMs: 5000,
    dedupMs: 10 * 60_000,
    maxImpressionsPerUser: 200,
  });
  assert.equal(config.experiment.arms[0].name, 'live');
  assert.deepEqual(config.FEEDBACK_SCRAPE_TARGETS, []);
  assert.ok(config.FEEDBACK_LATENCY_HISTOGRAM.test('inference_request_seconds'));
});

test('settings are parsed and bad ones named', () => {
  const config = loadFeedbackConfig({
    ...BASE,
    FEEDBACK_ATTRIBUTION_WINDOW_MINUTES: '5',
    FEEDBACK_SCRAPE_TARGETS: 'inference=http://127.0.0.1:9101/metrics, ingest=http://127.0.0.1:9102/metrics',
    RECO_EXPERIMENT:
      '{"id":"ab","arms":[{"name":"p","model":"popular","share":0.5},{"name":"s","model":"live","share":0.5}]}',
  });
  assert.equal(attributionOptions(config).windowMs, 5 * 60_000);
  assert.deepEqual(
    config.FEEDBACK_SCRAPE_TARGETS.map((t) => t.service),
    ['inference', 'ingest'],
  );
  assert.equal(config.experiment.control, 'p');

  assert.match(
    problems({ RECO_EXPERIMENT: '{"id":"ab","arms":[{"name":"p","model":"popular","share":0.4}]}' })[0],
    /^RECO_EXPERIMENT: arms: shares add up to 0.4/,
  );
  assert.match(
    problems({ FEEDBACK_SCRAPE_TARGETS: 'inference' })[0],
    /^FEEDBACK_SCRAPE_TARGETS: "inference": expected name=http/,
  );
  assert.match(
    problems({ FEEDBACK_LATENCY_HISTOGRAM: '(' })[0],
    /^FEEDBACK_LATENCY_HISTOGRAM: not a regular expression/,
  );
  assert.match(
    problems({ FEEDBACK_ATTRIBUTION_WINDOW_MINUTES: '0' })[0],
    /^FEEDBACK_ATTRIBUTION_WINDOW_MINUTES: /,
  );
  assert.match(
    problems({ RECO_EXPERIMENT_FILE: '/nonexistent/experiment.json' })[0],
    /^RECO_EXPERIMENT_FILE: cannot read/,
  );
});
