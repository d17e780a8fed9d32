/**
 * bench:serve — Recommend under fixed open-loop rates against the floor.
 *
 * Sets up (fresh key/topic prefix): a synthetic model and catalog of BENCH_ITEMS items
 * (default 100,000; 64-d), BENCH_USERS users (default 1,000,000) with state and vectors in
 * Redis, then starts inference (dist/main.js) and the floor (floor-server.js: one Redis GET +
 * a constant list), and for each rate in BENCH_RATES (default 500,1000,2000,4000) runs the
 * open-loop generator (loadgen-worker.js, its own process, a Node generator with a 2 ms timer,
 * no busy spin) for BENCH_SECONDS (default 30) after BENCH_WARMUP_SECONDS (default 5) at that
 * rate, first against the floor, then against inference. Prints per step p50/p95/p99/max,
 * errors and achieved rate; Redis bytes per user (MEMORY USAGE over 1,000 sampled users);
 * and where inference's time went (mean per stage from its own histograms). The last line
 * is the whole result as JSON.
 */
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Redis from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { CatalogItem, ModelPublished, topicNames } from '@reco/contracts';
import { ensureTopics } from '@reco/platform';
import { Interaction, encodeUserState, hash32, itemHash, userKey, writeSyntheticModel } from '@reco/realtime';

const env = (k: string, d: string) => process.env[k] ?? d;
const BROKERS = env('KAFKA_BROKERS', '127.0.0.1:9092');
const REDIS_URL = env('REDIS_URL', 'redis://127.0.0.1:6379');
const ITEMS = Number(env('BENCH_ITEMS', '100000'));
const USERS = Number(env('BENCH_USERS', '1000000'));
const RATES = env('BENCH_RATES', '500,1000,2000,4000').split(',').map(Number);
const SECONDS = Number(env('BENCH_SECONDS', '30'));
const WARMUP = Number(env('BENCH_WARMUP_SECONDS', '5'));
const DIM = 64;
const K = 10;
const VERSION = 'sasrec-bench-serve';
const prefix = `bench.serve.${Date.now().toString(36)}.`;
const topics = topicNames(prefix);
const log = (m: string) => console.error(`[bench:serve] ${m}`);

function startNode(script: string, extraEnv: Record<string, string>, nodeArgs: string[] = []) {
  const child = spawn(process.execPath, [...nodeArgs, script], {
    env: { ...process.env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const logs: Record<string, unknown>[] = [];
  const waiters: [(e: Record<string, unknown>) => boolean, (e: Record<string, unknown>) => void][] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      const e = JSON.parse(line) as Record<string, unknown>;
      logs.push(e);
      for (const [p, r] of waiters) if (p(e)) r(e);
    } catch {
      // not JSON
    }
  });
  const waitFor = (p: (e: Record<string, unknown>) => boolean) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const hit = logs.find(p);
      if (hit) return resolve(hit);
      waiters.push([p, resolve]);
      child.on('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
    });
  return { child, waitFor };
}

function generate(target: string, rate: number, seconds: number): Record<string, number> {
  const out = execFileSync(process.execPath, [
    join(__dirname, 'loadgen-worker.js'),
    JSON.stringify({ target, rate, seconds, users: USERS, k: K, userPrefix: 'bench-u' }),
  ]).toString();
  return JSON.parse(out.trim().split('\n').pop()!);
}

async function main() {
  const redis = new Redis(REDIS_URL);
  const kafka = new Kafka({
    clientId: 'serve-bench',
    brokers: BROKERS.split(','),
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, ['catalog', 'modelPublished', 'impressions'], { prefix, replicationFactor: 1 });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();

  log(`model: ${ITEMS} items, ${DIM}-d`);
  const model = await writeSyntheticModel(VERSION, { numItems: ITEMS, dim: DIM, seed: 5 });
  log('catalog');
  for (let start = 0; start < ITEMS; start += 5000) {
    await producer.send({
      topic: topics.catalog,
      messages: model.itemIds.slice(start, start + 5000).map((id, j) => {
        const i = start + j;
        return {
          key: id,
          value: Buffer.from(
            CatalogItem.encode({
              itemId: id,
              title: `item ${i} ${['red', 'blue', 'green'][i % 3]}`,
              description: '',
              categoryPath: [`c${i % 50}`, `s${i % 7}`],
              brand: `b${i % 100}`,
              price: 1 + (i % 200),
              currency: 'EUR',
              inStock: i % 20 !== 0,
              createdAt: new Date('2024-01-01'),
              attributes: {},
              updatedAt: new Date(),
            }).finish(),
          ),
        };
      }),
    });
  }
  log(`users: ${USERS} with 20 recent items and a ${DIM}-d vector`);
  const tag = hash32(VERSION);
  let seed = 1;
  const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296;
  for (let start = 0; start < USERS; start += 2000) {
    const pipe = redis.pipeline();
    for (let u = start; u < Math.min(USERS, start + 2000); u++) {
      const values = Float32Array.from({ length: DIM }, () => (rand() - 0.5) * 0.5);
      const recent = Array.from({ length: 20 }, () => ({
        item: itemHash(model.itemIds[Math.floor(rand() * ITEMS)]),
        kind: Interaction.View,
      }));
      pipe.set(
        userKey(prefix, `bench-u${u}`),
        encodeUserState({
          updatedAt: Math.floor(Date.now() / 1000),
          recent,
          bought: [recent[0].item],
          categories: [{ category: hash32('c1/s1'), score: 3, lastSeen: 0 }],
          vector: { modelTag: tag, values },
        }),
        'PX',
        3 * 86400_000,
      );
    }
    await pipe.exec();
  }
  let bytes = 0;
  const sample = Math.min(1000, USERS);
  for (let i = 0; i < sample; i++)
    bytes += Number(
      await redis.memory('USAGE', userKey(prefix, `bench-u${Math.floor((i * USERS) / sample)}`)),
    );
  const bytesPerUser = Math.round(bytes / sample);
  log(`redis bytes per user (MEMORY USAGE, ${sample} sampled): ${bytesPerUser}`);

  await producer.send({
    topic: topics.modelPublished,
    messages: [
      {
        key: 'sasrec',
        value: Buffer.from(
          ModelPublished.encode({
            modelVersion: VERSION,
            modelName: 'sasrec',
            publishedAt: new Date(),
            artifactUri: model.uri,
            itemCount: ITEMS,
            embeddingDim: DIM,
            metrics: {},
            dataWatermark: 'bench',
            previousVersion: '',
          }).finish(),
        ),
      },
    ],
  });
  const inference = startNode(
    join(__dirname, '..', 'main.js'),
    {
      KAFKA_BROKERS: BROKERS,
      REDIS_URL,
      RECO_TOPIC_PREFIX: prefix,
      REDIS_KEY_PREFIX: prefix,
      INFERENCE_GROUP_ID: `${prefix}inference`,
      GRPC_HOST: '127.0.0.1',
      GRPC_PORT: '0',
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
      LOG_LEVEL: 'info',
    },
    (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
  ); // e.g. --cpu-prof
  const floor = startNode(join(__dirname, 'floor-server.js'), { REDIS_URL, REDIS_KEY_PREFIX: prefix });
  log('waiting for inference to load the model and index it');
  await inference.waitFor((e) => e.msg === 'model loaded');
  const grpc = Number((await inference.waitFor((e) => e.msg === 'grpc listening')).port);
  const http = Number((await inference.waitFor((e) => e.msg === 'http listening')).port);
  const floorPort = Number((await floor.waitFor((e) => typeof e.port === 'number')).port);
  // let the popularity and catalog settle
  await new Promise((r) => setTimeout(r, 2000));

  const steps: Record<string, unknown>[] = [];
  for (const rate of RATES) {
    for (const [name, port] of [
      ['floor', floorPort],
      ['recommend', grpc],
    ] as const) {
      if (WARMUP > 0) generate(`127.0.0.1:${port}`, rate, WARMUP);
      const r = generate(`127.0.0.1:${port}`, rate, SECONDS);
      steps.push({ target: name, ...r });
      log(`${name} @ ${rate}/s: ${JSON.stringify(r)}`);
    }
  }
  const metrics = await (await fetch(`http://127.0.0.1:${http}/metrics`)).text();
  const stages: Record<string, number> = {};
  const sums = new Map<string, number>();
  const counts = new Map<string, number>();
  for (const line of metrics.split('\n')) {
    const m = /^inference_stage_seconds_(sum|count)\{[^}]*stage="(\w+)"[^}]*\} ([\d.e+-]+)/.exec(line);
    if (m) (m[1] === 'sum' ? sums : counts).set(m[2], Number(m[3]));
  }
  for (const [stage, sum] of sums) stages[stage] = Math.round((sum / (counts.get(stage) || 1)) * 1e6) / 1e3;
  const batch =
    /inference_score_batch_size_sum[^ ]* ([\d.e+-]+)[\s\S]*?inference_score_batch_size_count[^ ]* ([\d.e+-]+)/.exec(
      metrics,
    );
  const result = {
    items: ITEMS,
    users: USERS,
    seconds: SECONDS,
    generator: 'node open-loop (loadgen-worker.js, separate process, 2 ms timer)',
    redisBytesPerUser: bytesPerUser,
    meanStageMs: stages,
    meanScoreBatch: batch ? Number(batch[1]) / Number(batch[2]) : null,
    steps,
  };
  console.log(JSON.stringify(result));
  inference.child.kill('SIGTERM');
  floor.child.kill('SIGTERM');
  await producer.disconnect();
  // the bench's users are removed again (they are large)
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 5000);
    cursor = next;
    if (keys.length) await redis.unlink(...keys);
  } while (cursor !== '0');
  redis.disconnect();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
