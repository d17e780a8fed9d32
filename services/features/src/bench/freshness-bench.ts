/**
 * bench:freshness — event → vector and event → changed Recommend, end to end through the real
 * services: spawns ingest, features and inference (built dist/ of each, with the Node flags of
 * each one's start script) against the Kafka and
 * Redis of KAFKA_BROKERS / REDIS_URL, with a fresh topic prefix; publishes a synthetic model and
 * catalog; then for each of BENCH_USERS users (default 1000; BENCH_CONCURRENCY at a time,
 * default 10) publishes one click to the RAW topic (JSON, as a producer would) and polls every
 * BENCH_POLL_MS (default 10) until the user's vector in Redis changes and until Recommend's
 * answer changes. Each user first gets a warm-up click (so that the measured click changes an
 * existing vector and answer). Prints p50 / p99 / max of both, as JSON on the last line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import * as grpc from '@grpc/grpc-js';
import Redis from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import {
  CatalogItem,
  ClickstreamEvent,
  EventType,
  ModelPublished,
  RecommenderClient,
  topicNames,
  type RankedItems,
} from '@reco/contracts';
import { ensureTopics } from '@reco/platform';
import { decodeUserState, userKey, writeSyntheticModel } from '@reco/realtime';
import { deleteTopicsWithPrefix, serviceNodeFlags, stopProcess } from '@reco/testing';

const REPO = join(__dirname, '..', '..', '..', '..');
const env = (k: string, d: string) => process.env[k] ?? d;
const BROKERS = env('KAFKA_BROKERS', '127.0.0.1:9092');
const REDIS_URL = env('REDIS_URL', 'redis://127.0.0.1:6379');
const USERS = Number(env('BENCH_USERS', '1000'));
const CONCURRENCY = Number(env('BENCH_CONCURRENCY', '10'));
const POLL_MS = Number(env('BENCH_POLL_MS', '10'));
const ITEMS = Number(env('BENCH_ITEMS', '2000'));
const KEY = 'freshness-bench-key-0123456789abcdef0123';
const prefix = `bench.freshness.${Date.now().toString(36)}.`;
const topics = topicNames(prefix);
/** The services this run started: stopped when it ends, failed or not. */
const started: ChildProcess[] = [];

function start(
  name: string,
  extra: Record<string, string>,
): { child: ChildProcess; ready: (msg: string) => Promise<Record<string, unknown>> } {
  const dir = join(REPO, 'services', name);
  const child = spawn(process.execPath, [...serviceNodeFlags(dir), join(dir, 'dist', 'main.js')], {
    env: {
      ...process.env,
      KAFKA_BROKERS: BROKERS,
      REDIS_URL,
      RECO_TOPIC_PREFIX: prefix,
      REDIS_KEY_PREFIX: prefix,
      HTTP_PORT: '0',
      HTTP_HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      ...extra,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  started.push(child);
  const logs: Record<string, unknown>[] = [];
  const waiters: [string, (e: Record<string, unknown>) => void][] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      const e = JSON.parse(line) as Record<string, unknown>;
      logs.push(e);
      for (const [m, r] of waiters) if (m === e.msg) r(e);
    } catch {
      // not a log line
    }
  });
  const ready = (msg: string) =>
    new Promise<Record<string, unknown>>((resolve) => {
      const hit = logs.find((e) => e.msg === msg);
      if (hit) resolve(hit);
      else waiters.push([msg, resolve]);
    });
  return { child, ready };
}

const quantile = (xs: number[], q: number) => {
  const s = xs.slice().sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))] : NaN;
};

const kafka = new Kafka({
  clientId: 'freshness-bench',
  brokers: BROKERS.split(','),
  logLevel: logLevel.NOTHING,
});

async function main() {
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(
    admin,
    ['clickstreamRaw', 'catalogRaw', 'eventsClean', 'catalog', 'deadLetter', 'modelPublished', 'impressions'],
    {
      prefix,
      replicationFactor: 1,
    },
  );
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  const model = await writeSyntheticModel('sasrec-bench-fresh', { numItems: ITEMS, dim: 64, seed: 3 });
  await producer.send({
    topic: topics.catalog,
    messages: model.itemIds.map((id, i) => ({
      key: id,
      value: Buffer.from(
        CatalogItem.encode({
          itemId: id,
          title: `item ${i}`,
          description: '',
          categoryPath: [`c${i % 20}`],
          brand: 'b',
          price: 1 + (i % 100),
          currency: 'EUR',
          inStock: true,
          createdAt: new Date('2024-01-01'),
          attributes: {},
          updatedAt: new Date(),
        }).finish(),
      ),
    })),
  });
  await producer.send({
    topic: topics.modelPublished,
    messages: [
      {
        key: 'sasrec',
        value: Buffer.from(
          ModelPublished.encode({
            modelVersion: 'sasrec-bench-fresh',
            modelName: 'sasrec',
            publishedAt: new Date(),
            artifactUri: model.uri,
            itemCount: ITEMS,
            embeddingDim: 64,
            metrics: {},
            dataWatermark: 'bench',
            previousVersion: '',
          }).finish(),
        ),
      },
    ],
  });
  const ingest = start('ingest', {
    RECO_PSEUDONYMIZATION_KEY: KEY,
    INGEST_GROUP_ID: `${prefix}ingest`,
    INGEST_TRANSACTIONAL_ID: `${prefix}ingest`,
  });
  const features = start('features', { FEATURES_GROUP_ID: `${prefix}features` });
  const inference = start('inference', {
    INFERENCE_GROUP_ID: `${prefix}inference`,
    GRPC_PORT: '0',
    GRPC_HOST: '127.0.0.1',
  });
  await Promise.all([
    features.ready('model loaded'),
    inference.ready('model loaded'),
    ingest.ready('ingest consuming'),
  ]);
  const { port } = await inference.ready('grpc listening');
  const client = new RecommenderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const redis = new Redis(REDIS_URL);
  const recommend = (userId: string) =>
    new Promise<RankedItems>((resolve, reject) =>
      client.recommend({ userId, k: 10, context: undefined, filters: undefined }, (e, r) =>
        e ? reject(e) : resolve(r),
      ),
    );
  const click = (raw: string, item: string) =>
    producer.send({
      topic: topics.clickstreamRaw,
      messages: [
        {
          key: raw,
          value: JSON.stringify(
            ClickstreamEvent.toJSON({
              eventId: `${raw}-${item}-${Math.random()}`,
              type: EventType.EVENT_TYPE_CLICK,
              userId: raw,
              sessionId: 's',
              itemId: item,
              query: '',
              quantity: 0,
              price: 0,
              timestamp: new Date(),
              context: undefined,
              schemaVersion: 'reco.v1',
            }),
          ),
          headers: { 'content-type': 'application/json' },
        },
      ],
    });
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const vectorOf = async (user: string) => {
    const raw = await redis.getBuffer(userKey(prefix, user));
    return raw ? decodeUserState(raw).vector?.values.join(',') : undefined;
  };

  const toVector: number[] = [];
  const toResponse: number[] = [];
  let timeouts = 0;
  const one = async (n: number) => {
    const raw = `bench-user-${n}`;
    const user = createHmac('sha256', KEY).update(raw, 'utf8').digest('hex').slice(0, 32);
    await click(raw, model.itemIds[(n * 7) % ITEMS]);
    let deadline = Date.now() + 30_000;
    while ((await vectorOf(user)) === undefined && Date.now() < deadline) await sleep(POLL_MS);
    const vBefore = await vectorOf(user);
    for (let i = 0; i < 50 && (await recommend(user)).fallback; i++) await sleep(POLL_MS);
    const rBefore = JSON.stringify((await recommend(user)).items);
    const t0 = Date.now();
    await click(raw, model.itemIds[(n * 13 + 5) % ITEMS]);
    let tv: number | undefined;
    let tr: number | undefined;
    deadline = t0 + 30_000;
    while ((tv === undefined || tr === undefined) && Date.now() < deadline) {
      if (tv === undefined && (await vectorOf(user)) !== vBefore) tv = Date.now() - t0;
      if (tr === undefined && JSON.stringify((await recommend(user)).items) !== rBefore) tr = Date.now() - t0;
      if (tv === undefined || tr === undefined) await sleep(POLL_MS);
    }
    if (tv === undefined || tr === undefined) timeouts++;
    if (tv !== undefined) toVector.push(tv);
    if (tr !== undefined) toResponse.push(tr);
  };
  let next = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < USERS) await one(next++);
    }),
  );
  const result = {
    users: USERS,
    concurrency: CONCURRENCY,
    pollMs: POLL_MS,
    items: ITEMS,
    seconds: (Date.now() - started) / 1000,
    eventToVectorMs: {
      p50: quantile(toVector, 0.5),
      p99: quantile(toVector, 0.99),
      max: Math.max(...toVector),
    },
    eventToResponseMs: {
      p50: quantile(toResponse, 0.5),
      p99: quantile(toResponse, 0.99),
      max: Math.max(...toResponse),
    },
    timeouts,
  };
  console.log(JSON.stringify(result));
  client.close();
  redis.disconnect();
  await producer.disconnect();
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(async () => {
    await Promise.all(started.map((child) => stopProcess(child)));
    // the run's topics go too (left behind, runs filled the broker's disk)
    await deleteTopicsWithPrefix(kafka, prefix).catch((err) =>
      console.error('deleting the run topics:', err),
    );
    process.exit();
  });
