import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Kafka } from 'kafkajs';
import { ClickstreamEvent, EventType, ModelPublished, topicNames } from '@reco/contracts';
import { ensureTopics } from '@reco/platform';
import {
  getTestInfra,
  readTopic,
  spawnService,
  uniquePrefix,
  type LogEntry,
  type TestInfra,
  type TestService,
  testKafka,
  inputProducer,
} from '@reco/testing';
import type { CheckpointRun } from './adapters/checkpoint-store';
import type { RunReport } from './training-run';

const MAIN = join(__dirname, 'main.js');
let infra: TestInfra;
before(async () => {
  infra = await getTestInfra();
});
after(async () => infra?.stop());

/**
 * The first log entry with one of `messages` (that matches). Polls the logs rather than using
 * waitFor, whose timer would keep the test process alive for a message that never comes.
 */
async function firstLog(
  service: TestService,
  messages: string[],
  timeoutMs: number,
  match: (e: LogEntry) => boolean = () => true,
): Promise<LogEntry> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hit = service.logs.find((e) => messages.includes(e.msg ?? '') && match(e));
    if (hit) return hit;
    if (service.child.exitCode !== null) throw new Error(`the trainer exited (${service.child.exitCode})`);
    if (Date.now() > deadline) throw new Error(`no ${messages.join(' / ')} in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The report of the first run that ends; a failed run fails the test. */
async function runEnds(service: TestService, timeoutMs = 300_000): Promise<RunReport> {
  const ended = await firstLog(service, ['training run finished', 'training run failed'], timeoutMs);
  if (ended.msg === 'training run failed') throw new Error(String(ended.err));
  return ended.report as RunReport;
}

const trainerEnv = (env: Record<string, string>) => ({
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

/** Runs the trainer process until its first run finishes; returns that run's report. */
async function trainOnce(env: Record<string, string>): Promise<RunReport> {
  const service = spawnService(MAIN, trainerEnv(env));
  try {
    return await runEnds(service);
  } finally {
    service.child.kill('SIGTERM');
    await service.exited;
  }
}

/** Clicks where every user walks the chain item-k → item-(k+1) from a start of their own. */
async function plantChains(
  kafka: Kafka,
  topic: string,
  options: { items: number; users: number; steps: number; firstUser?: number },
): Promise<void> {
  const { items, users, steps, firstUser = 0 } = options;
  const producer = inputProducer(kafka);
  await producer.connect();
  const messages = [];
  let t = Date.now() - 3600_000;
  // Users interleave in time, as on a real site, so the time cutoff splits most of them.
  for (let step = 0; step < steps; step++) {
    for (let u = firstUser; u < firstUser + users; u++) {
      const k = (((u * 7) % items) + step) % items;
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
  await producer.send({ topic, messages });
  await producer.disconnect();
}

async function createTopics(kafka: Kafka, prefix: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, ['eventsClean', 'catalog', 'modelPublished'], {
    prefix,
    partitions: 3,
    replicationFactor: 1,
  });
  await admin.disconnect();
}

test('events in → a model version in the store + a model-published message; a worse model is refused; the next run warm-starts', async () => {
  const prefix = uniquePrefix('trainer');
  const topics = topicNames(prefix);
  const kafka = testKafka(infra, 'trainer-int-test');
  await createTopics(kafka, prefix);
  // Planted order: every user walks the chain item-k → item-(k+1) from a random start.
  const ITEMS = 40;
  await plantChains(kafka, topics.eventsClean, { items: ITEMS, users: 400, steps: 8 });

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

test('an interrupted run (POST /train/cancel, then SIGTERM) resumes from its checkpoint on the same data and publishes', async () => {
  const prefix = uniquePrefix('trainer-resume');
  const topics = topicNames(prefix);
  const kafka = testKafka(infra, 'trainer-int-test');
  await createTopics(kafka, prefix);
  await plantChains(kafka, topics.eventsClean, { items: 40, users: 400, steps: 8 });
  const store = await mkdtemp(join(tmpdir(), 'models-'));
  const EPOCHS = 12;
  // small batches: epochs of about half a second, so the run is still going when interrupted
  const env = {
    RECO_TOPIC_PREFIX: prefix,
    MODEL_STORE_DIR: store,
    TRAINER_EPOCHS: String(EPOCHS),
    TRAINER_PATIENCE: '0',
    TRAINER_BATCH_SIZE: '16',
  };
  const checkpointEpochs = (s: TestService) =>
    s.logs.filter((e) => e.msg === 'training checkpoint written').map((e) => e.epoch as number);

  const first = spawnService(MAIN, trainerEnv(env));
  let lastEpoch: number;
  let runId: string;
  try {
    const port = (await first.waitFor('http listening')).port as number;
    await first.waitFor('training checkpoint written', (e) => (e.epoch as number) >= 2, 120_000);
    // cancelled over HTTP: the answer comes once the run has stopped, and the checkpoint stays
    const cancel = await fetch(`http://127.0.0.1:${port}/train/cancel`, { method: 'POST' });
    assert.equal(cancel.status, 200);
    assert.deepEqual(await cancel.json(), { cancelled: true });
    const cancelled = (await first.waitFor('training run interrupted')).report as RunReport;
    assert.equal(cancelled.outcome, 'interrupted');
    const cancelledAt = Math.max(...checkpointEpochs(first));
    assert.equal(cancelled.lastEpoch, cancelledAt);
    assert.ok(cancelledAt < EPOCHS);

    // the next run (on demand) continues it in the same process
    await fetch(`http://127.0.0.1:${port}/train`, { method: 'POST' });
    const inProcess = await first.waitFor('training resumed from checkpoint');
    assert.equal(inProcess.epoch, cancelledAt);
    await first.waitFor(
      'training checkpoint written',
      (e) => (e.epoch as number) >= cancelledAt + 2,
      120_000,
    );

    // SIGTERM: the run stops within a few seconds and the process exits 0
    const killedAt = Date.now();
    first.child.kill('SIGTERM');
    assert.equal(await first.exited, 0);
    assert.ok(Date.now() - killedAt < 5000, `exited ${Date.now() - killedAt} ms after SIGTERM`);
    const stopped = first.logs.filter((e) => e.msg === 'training run interrupted').pop()!.report as RunReport;
    lastEpoch = Math.max(...checkpointEpochs(first));
    assert.equal(stopped.lastEpoch, lastEpoch);
    assert.ok(lastEpoch < EPOCHS, `interrupted after epoch ${lastEpoch} of ${EPOCHS}`);
    runId = stopped.runId!;
    assert.equal(runId, cancelled.runId, 'a resumed run keeps its id');
  } finally {
    first.child.kill('SIGKILL');
  }
  const folder = join(store, 'checkpoints', runId);
  assert.deepEqual(await readdir(folder), [`epoch-${String(lastEpoch).padStart(5, '0')}`]);
  const interruptedRun = JSON.parse(
    await readFile(join(folder, (await readdir(folder))[0]!, 'run.json'), 'utf8'),
  ) as CheckpointRun;

  // New events arrive meanwhile: the resumed run must still train on the interrupted run's data.
  await plantChains(kafka, topics.eventsClean, { items: 40, users: 100, steps: 8, firstUser: 1000 });

  const second = spawnService(MAIN, trainerEnv(env));
  try {
    const resumed = await second.waitFor('training resumed from checkpoint', undefined, 120_000);
    assert.equal(resumed.epoch, lastEpoch);
    assert.equal(resumed.runId, runId);
    const report = await runEnds(second);
    assert.equal(report.outcome, 'published', report.reason);
    assert.equal(report.resumedFromEpoch, lastEpoch);
    assert.equal(report.runId, runId);
    const epochs = checkpointEpochs(second);
    assert.equal(epochs[0], lastEpoch + 1, 'epoch numbering continues');
    assert.equal(epochs[epochs.length - 1], EPOCHS);
    const manifest = JSON.parse(await readFile(join(store, report.version!, 'manifest.json'), 'utf8'));
    assert.equal(manifest.training.epochs, EPOCHS, 'the model counts the epochs of both processes');
    assert.deepEqual(await readdir(join(store, 'checkpoints')), [], 'a finished run deletes its checkpoint');

    const published = await readTopic(kafka, topics.modelPublished, { expected: 1 });
    assert.equal(published.length, 1);
    const announcement = ModelPublished.decode(published[0]!.value!);
    assert.equal(announcement.modelVersion, report.version);
    const trainedOn = Object.entries(interruptedRun.watermarks[topics.eventsClean]!)
      .map(([p, o]) => `${p}=${o}`)
      .join(',');
    assert.ok(
      announcement.dataWatermark.includes(`${topics.eventsClean}:${trainedOn}`),
      `trained on the interrupted run's data (${announcement.dataWatermark})`,
    );
    const port = (await second.waitFor('http listening')).port as number;
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    assert.match(metrics, /^trainer_resumes_total\{[^}]*\} 1$/m);
    assert.match(metrics, new RegExp(`^trainer_checkpoints_total\\{[^}]*\\} ${EPOCHS - lastEpoch}$`, 'm'));
  } finally {
    second.child.kill('SIGTERM');
    await second.exited;
  }
});
