/**
 * The main job: the whole product on the local Kafka and Redis, driven as a storefront would.
 *
 *   node tools/demo/dist/main.js [--quick]
 *
 * 1. starts ingest, features, inference, trainer and feedback as separate processes;
 * 2. publishes a synthetic catalog and the past clickstream of a simulated population through
 *    the raw topics (ingest validates, pseudonymizes, dedups);
 * 3. trains and publishes the first model (trainer), which features and inference load;
 * 4. as a gateway: asks Recommend for one shopper, publishes that shopper's click on another
 *    category, asks again and shows how the list changed and how long that took;
 * 5. runs simulated shoppers against two arms (the model, a popularity baseline) and prints
 *    the online CTR of each with its interval, from the feedback service;
 * 6. leaves everything running for the dashboard and says how to stop it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { topicNames } from '@reco/contracts';
import { ArmAssigner, parseExperiment } from '@reco/experiments';
import { pseudonymize } from '@reco/platform';
import { generateShop, generateShoppers, simulateHistory, simulationRandom } from '@reco/simulator';
import { liveEvent, publishCatalog, publishHistory, runTraffic } from './shop-traffic';
import { Stack } from './stack';

const REPO = join(__dirname, '..', '..', '..');
const quick = process.argv.includes('--quick');
const SCALE = quick
  ? {
      items: 2000,
      shoppers: 600,
      steps: 10,
      trainMinutes: 0.75,
      epochs: 12,
      dim: 32,
      trafficSeconds: 40,
      rps: 40,
    }
  : {
      items: 10_000,
      shoppers: 3000,
      steps: 14,
      trainMinutes: 4,
      epochs: 40,
      dim: 64,
      trafficSeconds: 180,
      rps: 40,
    };
const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const KEY = process.env.RECO_PSEUDONYMIZATION_KEY ?? 'demo-key-change-me-in-production-0123456789';
const EXPERIMENT = {
  id: 'demo-ab',
  arms: [
    { name: 'popular', model: 'popular', share: 0.5 },
    { name: 'sasrec', model: 'live', share: 0.5 },
  ],
};

const started = Date.now();
const clock = () => `${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s`;
const say = (s = '') => console.log(s);
const step = (s: string) => console.log(`\n[${clock()}] ${s}`);

interface ArmView {
  arm: string;
  impressions: number;
  counts: { clicked: number };
  ctr: { estimate: number; low: number; high: number };
}
interface MetricsView {
  arms: ArmView[];
  comparisons: {
    arm: string;
    control: string;
    metric: string;
    difference: { estimate: number; low: number; high: number };
    pValue: number;
  }[];
}

async function main() {
  const runId = new Date()
    .toISOString()
    .replace(/[-:.TZ]/g, '')
    .slice(0, 14);
  const prefix = `demo.${runId}.`;
  const runDir = join(REPO, '.state', 'demo', runId);
  mkdirSync(runDir, { recursive: true });
  writeFileSync(join(REPO, '.state', 'demo', 'CURRENT'), `${runId}\n`);
  const topics = topicNames(prefix);
  say(
    `== reco demo${quick ? ' (--quick)' : ''}: run ${runId}, topics "${prefix}*", logs in ${join(runDir, 'logs')}`,
  );

  const kafka = new Kafka({ clientId: 'reco-demo', brokers: brokers.split(','), logLevel: logLevel.NOTHING });

  step('starting the five services');
  const stack = await Stack.start(
    {
      runDir,
      prefix,
      brokers,
      redisUrl,
      pseudonymizationKey: KEY,
      experiment: EXPERIMENT,
      partitions: 3,
      trainer: {
        TRAINER_MAX_TRAIN_MINUTES: String(SCALE.trainMinutes),
        TRAINER_EPOCHS: String(SCALE.epochs),
        TRAINER_DIM: String(SCALE.dim),
        TRAINER_MAX_LEN: '30',
        TRAINER_PATIENCE: '3',
      },
    },
    (s) => say(`  ${s}`),
  );
  say(
    `  inference gRPC on 127.0.0.1:${stack.ports.grpc}; dashboard on http://127.0.0.1:${stack.ports.feedback}/`,
  );

  step(`generating a shop of ${SCALE.items} items and ${SCALE.shoppers} shoppers with hidden tastes`);
  const shop = generateShop(SCALE.items, 11);
  const shoppers = generateShoppers(shop, SCALE.shoppers, 12);
  const history = simulateHistory(shop, shoppers, {
    stepsPerShopper: SCALE.steps,
    spanMs: 7 * 86400_000,
    end: Date.now() - 60_000,
    seed: 13,
  });
  const producer = kafka.producer();
  await producer.connect();
  await publishCatalog(producer, topics.catalogRaw, shop);
  await publishHistory(producer, topics.clickstreamRaw, history);
  say(`  published ${shop.items.length} catalog items and ${history.length} past events to the raw topics`);
  for (;;) {
    const out = await stack.metric('ingest', 'ingest_messages_out_total', `topic="${topics.eventsClean}"`);
    if (out >= history.length) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  say(`  ingest: all ${history.length} events clean (validated, pseudonymized, deduplicated)`);

  step(`training the first model (transformer + transitions, at most ${SCALE.trainMinutes} min)`);
  const report = await stack.train(SCALE.trainMinutes * 60_000 + 10 * 60_000);
  const candidate = report.candidate as { ndcg10: number; hr10: number; cases: number } | undefined;
  if (report.outcome !== 'published')
    throw new Error(`the trainer did not publish: ${String(report.reason)}`);
  say(
    `  published ${String(report.version)}: holdout NDCG@10 ${candidate?.ndcg10.toFixed(3)}, HR@10 ${candidate?.hr10.toFixed(3)} over ${candidate?.cases} users`,
  );
  await Promise.all([
    stack.services.inference.waitFor('model loaded', 120_000, (e) => e.version === report.version),
    stack.services.features.waitFor('model loaded', 120_000, (e) => e.version === report.version),
  ]);

  // A shopper in the model arm, with a history, whose vector features has re-encoded.
  const assigner = new ArmAssigner(parseExperiment(EXPERIMENT));
  const candidates = shoppers.filter(
    (s) => assigner.assign(pseudonymize(s.id, KEY)).name === 'sasrec' && s.journey.length >= 5,
  );
  let demoShopper = candidates[0]!;
  let before = await stack.recommend(demoShopper.id, 8);
  for (let tries = 0; before.fallback && tries < 600; tries++) {
    demoShopper = candidates[tries % Math.min(50, candidates.length)]!;
    before = await stack.recommend(demoShopper.id, 8);
    if (before.fallback) await new Promise((r) => setTimeout(r, 100));
  }
  const title = (id: string) => shop.items.find((i) => i.itemId === id);
  const show = (items: { itemId: string; reason: string }[], mark?: string) =>
    items.forEach((it, i) => {
      const item = title(it.itemId)!;
      const star = mark && item.category === mark ? '*' : ' ';
      say(
        `   ${star}${String(i + 1).padStart(2)}. ${item.title.padEnd(42)} ${item.category.padEnd(24)} ${it.reason}`,
      );
    });
  step(
    `Recommend for ${demoShopper.id} (likes ${demoShopper.tastes.join(', ')}; model ${before.modelVersion}, arm ${before.experimentArm})`,
  );
  show(before.items);

  const otherCategory = shop.categories.find(
    (c) => !demoShopper.tastes.some((t) => t.split('/')[0] === c.split('/')[0]),
  )!;
  const clicked = shop.byCategory.get(otherCategory)![0]!;
  step(
    `${demoShopper.id} clicks "${shop.items[clicked]!.title}" (${otherCategory}); asking again until the answer changes`,
  );
  const t0 = Date.now();
  await producer.send({
    topic: topics.clickstreamRaw,
    messages: [liveEvent(demoShopper, shop, clicked, 'click')],
  });
  let after = before;
  const sameList = () => after.items.map((i) => i.itemId).join() === before.items.map((i) => i.itemId).join();
  while (sameList() && Date.now() - t0 < 10_000) {
    await new Promise((r) => setTimeout(r, 20));
    after = await stack.recommend(demoShopper.id, 8);
  }
  const took = Date.now() - t0;
  if (sameList()) say('  the list did not change within 10 s');
  else
    say(
      `  changed after ${took} ms (click → ingest → features re-encodes → Recommend); * = ${otherCategory}:`,
    );
  show(after.items, otherCategory);

  step(`simulated shoppers against two arms for ${SCALE.trafficSeconds} s (~${SCALE.rps} requests/s)`);
  const traffic = await runTraffic({
    stack,
    shop,
    shoppers,
    producer,
    topic: topics.clickstreamRaw,
    seconds: SCALE.trafficSeconds,
    requestsPerSecond: SCALE.rps,
    rand: simulationRandom(21),
  });
  say(`  ${traffic.requests} requests, ${traffic.clicks} clicks, ${traffic.errors} errors`);
  // feedback joins by event time: wait until it has attributed what the shoppers did
  let view: MetricsView | undefined;
  for (let i = 0; i < 60; i++) {
    view = await stack.feedbackMetrics<MetricsView>();
    const impressions = view.arms.reduce((n, a) => n + a.impressions, 0);
    const clicks = view.arms.reduce((n, a) => n + a.counts.clicked, 0);
    if (impressions >= traffic.requests && clicks >= traffic.clicks * 0.98) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  step('online CTR per arm (feedback service, 95% intervals):');
  for (const a of view!.arms)
    say(
      `  ${a.arm.padEnd(8)} ${String(a.impressions).padStart(6)} impressions  ${String(a.counts.clicked).padStart(5)} clicks  CTR ${(100 * a.ctr.estimate).toFixed(2)}% [${(100 * a.ctr.low).toFixed(2)}, ${(100 * a.ctr.high).toFixed(2)}]`,
    );
  for (const c of view!.comparisons.filter((c) => c.metric === 'ctr'))
    say(
      `  ${c.arm} − ${c.control}: ${(100 * c.difference.estimate).toFixed(2)} points [${(100 * c.difference.low).toFixed(2)}, ${(100 * c.difference.high).toFixed(2)}], p = ${c.pValue.toPrecision(2)}`,
    );
  await producer.disconnect();
  stack.client.close();

  step('done');
  say(`  dashboard: http://127.0.0.1:${stack.ports.feedback}/   (the services keep running)`);
  say(`  logs:      ${join(runDir, 'logs')}`);
  say('  stop everything: bash scripts/stop.sh');
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  console.error('stop what was started with: bash scripts/stop.sh');
  process.exit(1);
});
