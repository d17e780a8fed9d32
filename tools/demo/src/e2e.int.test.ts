import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { topicNames } from '@reco/contracts';
import { generateShop, generateShoppers, simulateHistory, simulationRandom } from '@reco/simulator';
import { getTestInfra, uniquePrefix, type TestInfra } from '@reco/testing';
import { publishCatalog, publishHistory, runTraffic } from './shop-traffic';
import { Stack } from './stack';

let infra: TestInfra;
let stack: Stack | undefined;
before(async () => {
  infra = await getTestInfra();
});
after(async () => {
  await stack?.stop();
  await infra?.stop();
});

interface ArmView {
  arm: string;
  impressions: number;
  counts: { clicked: number };
}

test('end to end: events in → model trained → Recommend answers → impressions and clicks → feedback metrics', async () => {
  const prefix = uniquePrefix('e2e');
  const topics = topicNames(prefix);
  const kafka = new Kafka({ clientId: 'e2e', brokers: infra.kafkaBrokers, logLevel: logLevel.NOTHING });
  const s = await Stack.start({
    runDir: mkdtempSync(join(tmpdir(), 'reco-e2e-')),
    prefix,
    brokers: infra.kafkaBrokers.join(','),
    redisUrl: infra.redisUrl,
    pseudonymizationKey: 'e2e-test-key-0123456789abcdef0123456789',
    experiment: {
      id: 'e2e',
      arms: [
        { name: 'popular', model: 'popular', share: 0.5 },
        { name: 'model', model: 'live', share: 0.5 },
      ],
    },
    partitions: 2,
    trainer: {
      TRAINER_MAX_TRAIN_MINUTES: '0.5',
      TRAINER_EPOCHS: '6',
      TRAINER_DIM: '16',
      TRAINER_BLOCKS: '1',
      TRAINER_HEADS: '1',
      TRAINER_MAX_LEN: '12',
      TRAINER_MIN_HOLDOUT_CASES: '10',
    },
  });
  stack = s;

  const shop = generateShop(400, 1);
  const shoppers = generateShoppers(shop, 150, 2);
  const history = simulateHistory(shop, shoppers, {
    stepsPerShopper: 8,
    spanMs: 86400_000,
    end: Date.now() - 60_000,
    seed: 3,
  });
  const producer = kafka.producer();
  await producer.connect();
  try {
    await publishCatalog(producer, topics.catalogRaw, shop);
    await publishHistory(producer, topics.clickstreamRaw, history);
    const deadline = Date.now() + 60_000;
    while (
      (await s.metric('ingest', 'ingest_messages_out_total', `topic="${topics.eventsClean}"`)) <
      history.length
    ) {
      assert.ok(Date.now() < deadline, 'ingest cleaned the history within a minute');
      await new Promise((r) => setTimeout(r, 300));
    }

    const report = await s.train(5 * 60_000);
    assert.equal(report.outcome, 'published', String(report.reason));
    await s.services.inference.waitFor('model loaded', 60_000, (e) => e.version === report.version);

    // Some user in the model arm gets a personalized answer from the new version.
    let personalized = false;
    for (let i = 0; i < 200 && !personalized; i++) {
      const answer = await s.recommend(shoppers[i % shoppers.length]!.id, 5);
      assert.equal(answer.items.length, 5);
      assert.ok(answer.items.every((it) => it.reason));
      if (answer.experimentArm === 'model' && !answer.fallback) {
        assert.equal(answer.modelVersion, report.version);
        personalized = true;
      }
      if (!personalized) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(personalized, 'a model-arm user got a personalized answer');

    const traffic = await runTraffic({
      stack: s,
      shop,
      shoppers,
      producer,
      topic: topics.clickstreamRaw,
      seconds: 8,
      requestsPerSecond: 25,
      rand: simulationRandom(4),
    });
    assert.equal(traffic.errors, 0);
    assert.ok(traffic.clicks > 0, 'the shoppers clicked something');

    let arms: ArmView[] = [];
    for (let i = 0; i < 60; i++) {
      arms = (await s.feedbackMetrics<{ arms: ArmView[] }>()).arms;
      const clicks = arms.reduce((n, a) => n + a.counts.clicked, 0);
      if (clicks >= traffic.clicks) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    const impressions = arms.reduce((n, a) => n + a.impressions, 0);
    const clicks = arms.reduce((n, a) => n + a.counts.clicked, 0);
    assert.ok(
      impressions >= traffic.requests,
      `feedback saw the impressions (${impressions} >= ${traffic.requests})`,
    );
    assert.equal(clicks, traffic.clicks, 'feedback attributed every click the shoppers made');
    assert.deepEqual(arms.map((a) => a.arm).sort(), ['model', 'popular']);
  } finally {
    await producer.disconnect();
  }
});
