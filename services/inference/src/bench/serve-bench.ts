/**
 * bench:serve — Recommend under fixed open-loop rates against the floor.
 *
 * Sets up (fresh key/topic prefix): a synthetic model and catalog of BENCH_ITEMS items
 * (default 100,000; 64-d), BENCH_USERS users (default 1,000,000) with state and vectors in
 * Redis, then starts inference (dist/main.js) and the floor (floor-server.js: one Redis GET +
 * a constant list), and for each rate in BENCH_RATES (default 500,1000,2000,4000) runs the
 * open-loop generator (loadgen-worker.js, its own process, gRPC over node:http2, a 2 ms timer,
 * no busy spin) for BENCH_SECONDS (default 30) after a warm-up of BENCH_WARMUP_SECONDS
 * (default 5) at that rate in the same generator process, first against the floor, then
 * against inference. Prints per step p50/p95/p99/max,
 * errors and achieved rate; Redis bytes per user (MEMORY USAGE over 1,000 sampled users);
 * and, per Recommend step, where inference's time went (its own stage histograms, event-loop
 * delay and GC time, scraped before and after the step; `scrapeMs`, how long the opening scrape
 * took) and its event loop's CPU
 * (`eventLoopCores`, `eventLoopUsPerRequest`: the main thread's, from /proc). Both sides run as BENCH_PROCESSES
 * processes sharing their port (default 1; INFERENCE_PROCESSES and FLOOR_PROCESSES). The last
 * line is the whole result as JSON. BENCH_LATENCY_DIR (a folder) keeps every measured call of
 * each step there (`<target>-<rate>.txt`: scheduled time and latency in ms), to see when a tail
 * happened.
 */
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Redis from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { AnnIndex, ClusteredVectors, DEFAULT_ANN, exactTopKMany, recallAtK } from '@reco/ann';
import { CatalogItem, ModelPublished, topicNames } from '@reco/contracts';
import { ensureTopics } from '@reco/platform';
import {
  busyCores,
  deleteTopicsWithPrefix,
  eventLoopCpuSeconds,
  machineTicks,
  serviceNodeFlags,
  stopProcess,
} from '@reco/testing';
import { Interaction, encodeUserState, hash32, itemHash, userKey, writeSyntheticModel } from '@reco/realtime';
import { servingTargets, type StepResult } from './serving-targets';

const env = (k: string, d: string) => process.env[k] ?? d;
const BROKERS = env('KAFKA_BROKERS', '127.0.0.1:9092');
const REDIS_URL = env('REDIS_URL', 'redis://127.0.0.1:6379');
const ITEMS = Number(env('BENCH_ITEMS', '100000'));
const USERS = Number(env('BENCH_USERS', '1000000'));
const RATES = env('BENCH_RATES', '500,1000,2000,4000').split(',').map(Number);
const SECONDS = Number(env('BENCH_SECONDS', '30'));
const WARMUP = Number(env('BENCH_WARMUP_SECONDS', '5'));
const SERVICE_LOG = process.env.BENCH_SERVICE_LOG;
/** A folder for each step's calls (scheduled time and latency, ms), to see when the tail happened. */
const LATENCY_DIR = process.env.BENCH_LATENCY_DIR;
const PROCESSES = Number(env('BENCH_PROCESSES', '1'));
const DIM = 64;
const CATEGORIES = 50;
// the index settings inference reads (the same defaults), so the printed recall is what it serves
const EF_SEARCH = Number(env('INFERENCE_ANN_EF_SEARCH', String(DEFAULT_ANN.efSearch)));
const ANN_TARGET_RECALL = Number(env('INFERENCE_ANN_TARGET_RECALL', String(DEFAULT_ANN.targetRecall)));
const ANN_MAX_EF_SEARCH = Number(env('INFERENCE_ANN_MAX_EF_SEARCH', String(DEFAULT_ANN.maxEfSearch)));
const ANN_M = Number(env('INFERENCE_ANN_M', String(DEFAULT_ANN.m)));
const ANN_EF_CONSTRUCTION = Number(env('INFERENCE_ANN_EF_CONSTRUCTION', String(DEFAULT_ANN.efConstruction)));
const ANN_CANDIDATES = Number(env('INFERENCE_ANN_CANDIDATES', '100'));
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
      // not JSON (e.g. --trace-gc output): kept when BENCH_SERVICE_LOG names a file
      if (SERVICE_LOG) appendFileSync(SERVICE_LOG, `${line}\n`);
    }
  });
  /** The first log line that passes `p`; with `count`, the count-th (one per process of a group). */
  const waitFor = (p: (e: Record<string, unknown>) => boolean, count = 1) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      let seen = 0;
      const counted = (e: Record<string, unknown>) => p(e) && ++seen === count;
      const hit = logs.find(counted);
      if (hit) return resolve(hit);
      waiters.push([counted, resolve]);
      child.on('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
    });
  return { child, waitFor };
}

/**
 * Runs the generator (its own process) for WARMUP + `seconds` at `rate`; `onMeasuring` runs
 * when its warm-up is over, so readings taken there cover exactly the measured seconds.
 */
function generate(
  target: string,
  rate: number,
  seconds: number,
  onMeasuring: () => Promise<void> | void,
  latencyDump?: string,
): Promise<Record<string, number>> {
  const child = spawn(
    process.execPath,
    [
      join(__dirname, 'loadgen-worker.js'),
      JSON.stringify({
        target,
        rate,
        warmup: WARMUP,
        seconds,
        users: USERS,
        k: K,
        userPrefix: 'bench-u',
        latencyDump,
      }),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    let measuring: Promise<void> | void = undefined;
    let result: Record<string, number> | undefined;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const message = JSON.parse(line) as Record<string, number> & { phase?: string };
      if (message.phase === 'measuring') measuring = onMeasuring();
      else result = message;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0 || !result) return reject(new Error(`load generator exited with ${code}`));
      Promise.resolve(measuring).then(() => resolve(result!), reject);
    });
  });
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

  log(`model: ${ITEMS} items, ${DIM}-d, embeddings clustered by category`);
  // Item embeddings cluster by the catalog's top category (c<i % 50>, below), as trained ones
  // do; users' interest vectors are drawn from the same clusters (they live in the items' space).
  const embeddings = new ClusteredVectors(DIM, CATEGORIES, 5);
  const itemEmbeddings = embeddings.sample(ITEMS, (i) => i % CATEGORIES);
  const ann = annCheck(itemEmbeddings, embeddings.sample(200));
  log(`ANN on these embeddings: ${JSON.stringify(ann)}`);
  const model = await writeSyntheticModel(VERSION, { numItems: ITEMS, dim: DIM, seed: 5, itemEmbeddings });
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
              categoryPath: [`c${i % CATEGORIES}`, `s${i % 7}`],
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
    const vectors = embeddings.sample(Math.min(USERS, start + 2000) - start);
    for (let u = start; u < Math.min(USERS, start + 2000); u++) {
      const values = vectors.subarray((u - start) * DIM, (u - start + 1) * DIM);
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
      INFERENCE_PROCESSES: String(PROCESSES),
    },
    // the flags of inference's start script (as deployed), plus extras
    [
      ...serviceNodeFlags(join(__dirname, '..', '..')),
      ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
    ],
  ); // e.g. BENCH_NODE_ARGS=--cpu-prof
  const floor = startNode(join(__dirname, 'floor-server.js'), {
    REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    FLOOR_PROCESSES: String(PROCESSES),
  });
  // whatever happens in the steps, the service processes and the bench's users do not outlive the run
  try {
    log('waiting for inference to load the model and index it');
    await inference.waitFor((e) => e.msg === 'model loaded', PROCESSES);
    const grpc = Number((await inference.waitFor((e) => e.msg === 'grpc listening', PROCESSES)).port);
    const http = Number((await inference.waitFor((e) => e.msg === 'http listening')).port);
    const floorPort = Number((await floor.waitFor((e) => typeof e.port === 'number', PROCESSES)).port);
    // let the popularity and catalog settle
    await new Promise((r) => setTimeout(r, 2000));

    const scrape = async () => parseMetrics(await (await fetch(`http://127.0.0.1:${http}/metrics`)).text());
    // the first scrape runs cold code (the HTTP route, every collector) for ~90 ms of
    // inference's event loop; taken here, it does not open the first step (run V9)
    await scrape();
    const steps: Record<string, unknown>[] = [];
    for (const rate of RATES) {
      for (const [name, port] of [
        ['floor', floorPort],
        ['recommend', grpc],
      ] as const) {
        let before: Samples | undefined;
        let machineBefore = machineTicks();
        let eventLoopBefore = Number.NaN;
        let scrapeMs: number | undefined;
        const r = await generate(
          `127.0.0.1:${port}`,
          rate,
          SECONDS,
          async () => {
            machineBefore = machineTicks();
            eventLoopBefore = eventLoopCpuSeconds(inference.child.pid);
            if (name === 'recommend') {
              const t0 = performance.now();
              before = await scrape();
              scrapeMs = Math.round((performance.now() - t0) * 10) / 10;
            }
          },
          LATENCY_DIR && join(LATENCY_DIR, `${name}-${rate}.txt`),
        );
        const step: Record<string, unknown> = { target: name, ...r, machineCores: busyCores(machineBefore) };
        if (before) {
          // the event loop's own CPU (the main thread of each process), the one resource a
          // request cannot share: what a cut in per-request work shows up in
          const eventLoopSeconds = eventLoopCpuSeconds(inference.child.pid) - eventLoopBefore;
          Object.assign(step, whereTheTimeWent(before, await scrape(), SECONDS), {
            // the scrape that opens the step runs on inference's event loop while calls arrive
            scrapeMs,
            eventLoopCores: Math.round((eventLoopSeconds / SECONDS) * 100) / 100,
            eventLoopUsPerRequest: Math.round((eventLoopSeconds / (r.requests ?? rate * SECONDS)) * 1e6),
          });
        }
        steps.push(step);
        log(`${name} @ ${rate}/s: ${JSON.stringify(step)}`);
      }
    }
    const result = {
      items: ITEMS,
      users: USERS,
      seconds: SECONDS,
      generator:
        'node open-loop (loadgen-worker.js: gRPC over node:http2, separate process, 2 ms timer, warmed up in-process)',
      processes: PROCESSES,
      redisBytesPerUser: bytesPerUser,
      ann,
      steps,
      targets: servingTargets(steps as unknown as StepResult[]),
    };
    log(`targets: ${JSON.stringify(result.targets)}`);
    console.log(JSON.stringify(result));
  } finally {
    await Promise.all([stopProcess(inference.child), stopProcess(floor.child)]);
    await producer.disconnect();
    // the bench's users are removed again (they are large)
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 5000);
      cursor = next;
      if (keys.length) await redis.unlink(...keys);
    } while (cursor !== '0');
    await deleteTopicsWithPrefix(kafka, prefix);
  }
  redis.disconnect();
}

/**
 * Recall@candidates against exact search and the mean search time of an index built as
 * inference builds it (M, efConstruction, efSearch floor, target recall and cap from the same
 * INFERENCE_ANN_* settings, efSearch calibrated at build), on this process's thread before the
 * load starts: what the bench's embeddings cost the index, measured, not assumed. The queries
 * are users' vectors, not the calibration's sample.
 */
function annCheck(items: Float32Array, queries: Float32Array) {
  const started = Date.now();
  const index = AnnIndex.build(items, DIM, {
    m: ANN_M,
    efConstruction: ANN_EF_CONSTRUCTION,
    efSearch: EF_SEARCH,
    targetRecall: ANN_TARGET_RECALL,
    maxEfSearch: ANN_MAX_EF_SEARCH,
    calibrationK: ANN_CANDIDATES,
  });
  const buildSeconds = (Date.now() - started) / 1000;
  const n = queries.length / DIM;
  const query = (q: number) => queries.subarray(q * DIM, (q + 1) * DIM);
  const t = process.hrtime.bigint();
  const approx = Array.from({ length: n }, (_, q) => index.search(query(q), ANN_CANDIDATES).labels);
  const searchMs = Number(process.hrtime.bigint() - t) / 1e6 / n;
  const exact = exactTopKMany(items, DIM, queries, ANN_CANDIDATES);
  const cal = index.calibration;
  return {
    m: ANN_M,
    efConstruction: ANN_EF_CONSTRUCTION,
    efSearch: index.efSearch,
    calibration: cal && {
      target: cal.target,
      reached: cal.reached,
      sampleRecall: Math.round(cal.recall * 1e4) / 1e4,
      seconds: cal.ms / 1000,
    },
    recallAtCandidates: Math.round(recallAtK(approx, exact) * 1e4) / 1e4,
    meanSearchMs: Math.round(searchMs * 1e3) / 1e3,
    buildSeconds,
  };
}

type Samples = Map<string, number>;

/** Prometheus text → "name{labels}" → value. */
function parseMetrics(text: string): Samples {
  const out: Samples = new Map();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z0-9_:]+(?:\{[^}]*\})?) ([\d.e+-]+|NaN)$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

/**
 * Inference's own account of one step, from its metrics before and after: mean time per
 * stage, the mean micro-batch, event-loop delay (prom-client resets its histogram at every
 * scrape, so the scrape after the step covers the step) and garbage-collection time.
 */
function whereTheTimeWent(before: Samples, after: Samples, seconds: number): Record<string, unknown> {
  const delta = (key: string) => (after.get(key) ?? 0) - (before.get(key) ?? 0);
  /** The sample named `name` whatever its labels (the service adds service="inference"). */
  const named = (name: string) =>
    [...after.keys()].find((k) => k === name || k.startsWith(`${name}{`)) ?? name;
  const ms = (x: number) => Math.round(x * 1e6) / 1e3;
  const meanStageMs: Record<string, number> = {};
  for (const key of after.keys()) {
    const m = /^inference_stage_seconds_sum\{.*stage="(\w+)"/.exec(key);
    if (!m) continue;
    const n = delta(key.replace('_sum{', '_count{'));
    if (n > 0) meanStageMs[m[1]!] = ms(delta(key) / n);
  }
  const gcSeconds: Record<string, number> = {};
  for (const key of after.keys()) {
    const m = /^nodejs_gc_duration_seconds_sum\{.*kind="(\w+)"/.exec(key);
    if (m && delta(key) > 0) gcSeconds[m[1]!] = Math.round(delta(key) * 1000) / 1000;
  }
  /**
   * Upper bound (ms) of the bucket that holds the 99th percentile of a histogram's samples in
   * the step, per value of `by` (a label): where the tail is, at the buckets' resolution.
   */
  const p99Buckets = (histogram: string, by: string) => {
    const buckets = new Map<string, { le: number; count: number }[]>();
    const label = new RegExp(`${by}="([^"]+)"`);
    for (const key of after.keys()) {
      if (!key.startsWith(`${histogram}_bucket{`)) continue;
      const group = label.exec(key)?.[1];
      const le = /le="([^"]+)"/.exec(key)?.[1];
      if (group === undefined || le === undefined) continue;
      const list = buckets.get(group) ?? [];
      list.push({ le: le === '+Inf' ? Infinity : Number(le), count: delta(key) });
      buckets.set(group, list);
    }
    const out: Record<string, number | string> = {};
    for (const [group, list] of buckets) {
      list.sort((a, b) => a.le - b.le);
      const total = list[list.length - 1]!.count; // the +Inf bucket counts every sample
      if (total <= 0) continue;
      const at = list.find((b) => b.count >= 0.99 * total)!;
      out[group] = at.le === Infinity ? `>${list[list.length - 2]!.le * 1000}` : ms(at.le);
    }
    return out;
  };
  const meanOf = (histogram: string) => {
    const n = delta(named(`${histogram}_count`));
    return n > 0 ? Math.round((delta(named(`${histogram}_sum`)) / n) * 100) / 100 : null;
  };
  const counted = (prefix: string) => {
    const out: Record<string, number> = {};
    for (const key of after.keys())
      if (key.startsWith(prefix) && delta(key) > 0) out[key.slice(prefix.length)] = delta(key);
    return out;
  };
  return {
    meanStageMs,
    // the stages' tails, and the handler's (if the handler's p99 is far below the step's, the
    // time went outside it: in gRPC, the event loop's queue or the generator)
    stageP99AtMostMs: p99Buckets('inference_stage_seconds', 'stage'),
    handlerP99AtMostMs: p99Buckets('inference_request_seconds', 'method').Recommend,
    meanScoreBatch: meanOf('inference_score_batch_size'),
    meanUserReadBatch: meanOf('inference_user_read_batch_size'),
    meanAnnBatch: meanOf('inference_ann_batch_size'),
    eventLoopDelayMs: {
      p50: ms(after.get(named('nodejs_eventloop_lag_p50_seconds')) ?? NaN),
      p99: ms(after.get(named('nodejs_eventloop_lag_p99_seconds')) ?? NaN),
      max: ms(after.get(named('nodejs_eventloop_lag_max_seconds')) ?? NaN),
    },
    gcSeconds,
    // all of its threads (event loop, ANN index, lexical index), from its process metrics
    inferenceCores: Math.round((delta(named('process_cpu_seconds_total')) / seconds) * 100) / 100,
    fallbacks: counted('inference_fallback_total'),
    popularFills: counted('inference_popular_fill_total'),
  };
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
