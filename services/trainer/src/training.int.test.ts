import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { ClickstreamEvent, EventType, ModelPublished, topicNames } from '@reco/contracts';
import { ensureTopics } from '@reco/platform';
import { getTestInfra, readTopic, spawnService, uniquePrefix, type TestInfra } from '@reco/testing';
import type { RunReport } from './training-run';

const MAIN = join(__dirname, 'main.js');
let infra: TestInfra;
before(async () => {
  infra = await getTestInfra();
});
after(async () => infra?.stop());

/** Runs the trainer process until its first run finishes; returns that run's report. */
async function trainOnce(env: Record<string, string>): Promise<RunReport> {
  const service = spawnService(MAIN, {
    KAFKA_BROKERS: infra.kafkaBrokers.join(','),
    TRAINER_INTERVAL_MINUTES: '0',
    TRAINER_RUN_ON_START: 'true',
    TRAINER_DIM: '16',
    TRAINER_BLOCKS: '1',
    TRAINER_HEADS: '1',
    TRAINER_MAX_LEN: '8',
    TRAINER_DROPOUT: '0.1',
    TRAINER_LEARNING_RATE: '0.01',
    TRAINER_BATCH_SIZE: '64',
    TRAINER_EPOCHS: '40',
    TRAINER_MAX_TRAIN_MINUTES: '2',
    HTTP_PORT: '0',
    HTTP_HOST: '127.0.0.1',
    ...env,
  });
  try {
    const failed = service.waitFor('training run failed', undefined, 300_000).then((e) => {
      throw new Error(String(e.err));
    });
    failed.catch(() => undefined); // it also rejects when the process exits after a finished run
    const finished = await Promise.race([
      service.waitFor('training run finished', undefined, 300_000),
      failed,
    ]);
    return finished.report as RunReport;
  } finally {
    service.child.kill('SIGTERM');
  }
}

test('events in → a model version in the store + a model-published message; a worse model is refused; the next run warm-starts', async () => {
  const prefix = uniquePrefix('trainer');
  const topics = topicNames(prefix);
  const kafka = new Kafka({
    clientId: 'trainer-int-test',
    brokers: infra.kafkaBrokers,
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, ['eventsClean', 'catalog', 'modelPublished'], {
    prefix,
    partitions: 3,
    replicationFactor: 1,
  });
  await admin.disconnect();

  // Planted order: every user walks the chain item-k → item-(k+1) from a random start.
  const ITEMS = 40;
  const producer = kafka.producer();
  await producer.connect();
  const messages = [];
  let t = Date.now() - 3600_000;
  // Users interleave in time, as on a real site, so the time cutoff splits most of them.
  for (let step = 0; step < 8; step++) {
    for (let u = 0; u < 400; u++) {
      const k = (((u * 7) % ITEMS) + step) % ITEMS;
      const event: ClickstreamEvent = {
        eventId: `e${u}-${step}`,
        type: EventType.EVENT_TYPE_CLICK,
        userId: `user${u}`,
        sessionId: '',
        itemId: `item-${k}`,
        query: '',
        quantity: 0,
        price: 0,
        timestamp: new Date((t += 50)),
        context: undefined,
        schemaVersion: 'reco.v1',
      };
      messages.push({ key: event.userId, value: Buffer.from(ClickstreamEvent.encode(event).finish()) });
    }
  }
  await producer.send({ topic: topics.eventsClean, messages });
  await producer.disconnect();

  const store = await mkdtemp(join(tmpdir(), 'models-'));
  const common = { RECO_TOPIC_PREFIX: prefix, MODEL_STORE_DIR: store };

  const first = await trainOnce(common);
  assert.equal(first.outcome, 'published', first.reason);
  assert.ok(
    first.candidate!.ndcg10 > 0.5,
    `the planted order is learned (holdout NDCG@10 ${first.candidate!.ndcg10})`,
  );
  assert.equal((await readFile(join(store, 'LIVE'), 'utf8')).trim(), first.version);
  assert.ok(existsSync(join(store, first.version!)));

  const published = await readTopic(kafka, topics.modelPublished, { expected: 1 });
  assert.equal(published.length, 1);
  const announcement = ModelPublished.decode(published[0]!.value!);
  assert.equal(announcement.modelVersion, first.version);
  assert.equal(announcement.itemCount, ITEMS);
  assert.equal(announcement.embeddingDim, 16);
  assert.match(announcement.artifactUri, /^file:\/\//);
  assert.match(announcement.dataWatermark, /reco\.events\.clean\.v1:0=\d+/);
  assert.ok(announcement.metrics['holdout_NDCG@10']! > 0.5);

  // An untrained (cold) transformer without the transition channel: clearly worse, so refused.
  const second = await trainOnce({
    ...common,
    TRAINER_EPOCHS: '0',
    TRAINER_TRANSITIONS: 'false',
    TRAINER_WARM_START: 'false',
  });
  assert.equal(second.outcome, 'refused', second.reason);
  assert.ok(second.live!.ndcg10 > second.candidate!.ndcg10);
  assert.equal((await readFile(join(store, 'LIVE'), 'utf8')).trim(), first.version, 'the live version stays');
  const after = await readTopic(kafka, topics.modelPublished, { expected: 2, timeoutMs: 3000 });
  assert.equal(after.length, 1, 'nothing more was announced');

  // The next regular run starts from the live version's weights and passes the gate.
  const third = await trainOnce(common);
  assert.equal(third.warmStartedFrom, first.version);
  assert.equal(third.outcome, 'published', third.reason);
  assert.equal((await readFile(join(store, 'LIVE'), 'utf8')).trim(), third.version);
});
