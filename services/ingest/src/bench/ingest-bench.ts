/**
 * pnpm bench:ingest — pushes N events (default 1,000,000) raw → clean through real ingest
 * processes (one consumer-group member per core by default, as ops would run it; BENCH_REPLICAS
 * to choose) and prints events per second, next to Kafka's own ProducerPerformance tool run on
 * the same broker with the same message size (the ceiling), and the ratio of the two. The rate
 * is the steady state's: from the first batch committed once every replica owns partitions.
 *
 * Needs the local Kafka and Redis (`pnpm infra:up`). Not a test: it asserts nothing.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { AssignerProtocol, Kafka, logLevel, type Admin } from 'kafkajs';
import { topicNames } from '@reco/contracts';
import { generateClickstream, publishMessages } from '@reco/loadgen';
import { ensureTopics } from '@reco/platform';
import {
  busyCores,
  deleteTopicsWithPrefix,
  machineTicks,
  processCpuSeconds,
  processName,
  serviceNodeFlags,
  stopProcess,
  type MachineTicks,
} from '@reco/testing';

const N = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? 6);
const CORES = cpus().length;
// One member per core: one process runs its per-event work on one thread (docs/benchmarks.md,
// Ingest, 2026-12-02: two members against one on a 2-core machine).
const REPLICAS = Number(process.env.BENCH_REPLICAS ?? Math.min(CORES, PARTITIONS));
const STALL_MS = 120_000;
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const repo = join(__dirname, '..', '..', '..', '..');
const log = (msg: string) => process.stderr.write(`[bench:ingest] ${msg}\n`);

async function main() {
  const prefix = `bench.${Date.now().toString(36)}.`;
  const kafka = new Kafka({ clientId: 'bench-ingest', brokers, logLevel: logLevel.NOTHING });
  try {
    await run(kafka, prefix);
  } finally {
    // ~700 MB of log per 1,000,000 events (raw, clean, the ProducerPerformance topic)
    log(`deleted the run's ${(await deleteTopicsWithPrefix(kafka, prefix)).length} topics`);
  }
}

async function run(kafka: Kafka, prefix: string) {
  const topics = topicNames(prefix);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, ['clickstreamRaw', 'catalogRaw', 'eventsClean', 'catalog', 'deadLetter'], {
    prefix,
    partitions: PARTITIONS,
    replicationFactor: 1,
  });

  log(`loading ${N} raw events (JSON) into ${topics.clickstreamRaw}`);
  let bytes = 0;
  const stream = (function* () {
    for (const m of generateClickstream({
      count: N,
      users: 100_000,
      items: 50_000,
      seed: 5,
      format: 'json',
    })) {
      bytes += m.value.length;
      yield m;
    }
  })();
  const producer = kafka.producer();
  await producer.connect();
  const loadStart = Date.now();
  await publishMessages(producer, topics.clickstreamRaw, stream, { rate: 0, chunk: 2000, concurrency: 4 });
  await producer.disconnect();
  const recordSize = Math.round(bytes / N);
  log(`loaded in ${((Date.now() - loadStart) / 1000).toFixed(1)} s, mean message ${recordSize} bytes`);

  const groupId = `${prefix}ingest`;
  // Node flags as the package's start script gives them (a larger young generation), then
  // the run's own, e.g. --cpu-prof
  const nodeArgs = [
    ...serviceNodeFlags(join(repo, 'services', 'ingest')),
    ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
  ];
  let exited: string | undefined;
  let stopping = false;
  // More replicas = more consumer-group members, as ops scale ingest.
  const children = Array.from({ length: REPLICAS }, (_, r) => {
    const child = spawn(
      process.execPath,
      [...nodeArgs, join(repo, 'services', 'ingest', 'dist', 'main.js')],
      {
        env: {
          ...process.env,
          KAFKA_BROKERS: brokers.join(','),
          REDIS_URL: redisUrl,
          RECO_TOPIC_PREFIX: prefix,
          REDIS_KEY_PREFIX: prefix,
          RECO_PSEUDONYMIZATION_KEY: 'benchmark-key-benchmark-key-0123456789',
          INGEST_GROUP_ID: groupId,
          INGEST_TRANSACTIONAL_ID: `${prefix}ingest-${r}`,
          HTTP_PORT: '0',
          LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    // Its warnings and errors (LOG_LEVEL=warn) go to stderr: a run that stalls says why.
    createInterface({ input: child.stdout! }).on('line', (line) => log(`ingest ${r}: ${line}`));
    child.on('exit', (code, signal) => {
      if (!stopping) exited = `ingest ${r} exited early (code ${code}, signal ${signal})`;
    });
    return child;
  });

  // Who else spends the machine's CPU while ingest runs: the broker and Redis, when they run here.
  const servers = await localServerPids(redisUrl);
  // Throughput read from the group's offsets, from the first committed batch once every
  // replica owns partitions (the steady state) to the last. Replicas start together, but the
  // first to join takes all partitions and learns of the others only at its next heartbeat
  // (~3 s later), then the group rebalances: those seconds are a start-up effect, not the
  // rate of a scaled service, so they are left out and reported apart (from_first_batch).
  // A run whose offsets stop moving for STALL_MS (start-up included) ends as a failure.
  // The window starts with the CPU readings taken then.
  type Mark = { t: number; n: number; machine: MachineTicks; cpu: RunCpu };
  const mark = (n: number): Mark => ({
    t: Date.now(),
    n,
    machine: machineTicks(),
    cpu: runCpu(servers, children),
  });
  let earliest: Mark | undefined;
  let first: Mark | undefined;
  let allAssigned = false;
  let done = 0;
  let moved = { t: Date.now(), n: 0 };
  while (!exited && Date.now() - moved.t < STALL_MS) {
    await new Promise((r) => setTimeout(r, 200));
    if (!allAssigned)
      allAssigned = await everyReplicaAssigned(admin, groupId, topics.clickstreamRaw, REPLICAS);
    const offsets = await admin.fetchOffsets({ groupId, topics: [topics.clickstreamRaw] });
    done = offsets[0]!.partitions.reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
    if (!earliest && done > 0) earliest = mark(done);
    if (!first && allAssigned && done > 0 && done < N) first = mark(done);
    if (done > moved.n) moved = { t: Date.now(), n: done };
    if (done >= N) break;
  }
  const end = Date.now();
  // Read before the ingest processes shut down (their whole CPU so far is the steadier figure).
  const last = { machine: machineTicks(), cpu: runCpu(servers, children) };
  stopping = true;
  await Promise.all(children.map((c) => stopProcess(c)));
  await admin.disconnect();
  if (!earliest || done < N)
    throw new Error(
      `ingest processed only ${done} of ${N} events: ${exited ?? `no progress for ${STALL_MS / 1000} s`}`,
    );
  if (!first)
    throw new Error(
      `the ${REPLICAS} replicas never all owned partitions before the run ended (raise BENCH_EVENTS)`,
    );
  const ingestRate = (done - first.n) / ((end - first.t) / 1000);
  const fromFirstBatch = (done - earliest.n) / ((end - earliest.t) / 1000);
  // CPU seconds per 1,000,000 events over the measured (steady) window
  const start = first;
  const perMillion = (key: keyof RunCpu) =>
    Number((((last.cpu[key] - start.cpu[key]) / (done - start.n)) * 1e6).toFixed(1));

  log(`running Kafka's ProducerPerformance with ${N} records of ${recordSize} bytes (the ceiling)`);
  const perfTopic = `${prefix}producer-perf`;
  const a2 = kafka.admin();
  await a2.connect();
  await a2.createTopics({ topics: [{ topic: perfTopic, numPartitions: PARTITIONS, replicationFactor: 1 }] });
  await a2.disconnect();
  const perf = spawnSync(
    'bash',
    [
      join(repo, 'deploy', 'local', 'kafka-run-class.sh'),
      'org.apache.kafka.tools.ProducerPerformance',
      '--topic',
      perfTopic,
      '--num-records',
      String(N),
      '--record-size',
      String(recordSize),
      '--throughput',
      '-1',
      '--producer-props',
      `bootstrap.servers=${brokers[0]}`,
      'acks=all',
    ],
    { encoding: 'utf8' },
  );
  const summary = perf.stdout
    .trim()
    .split('\n')
    .filter((l) => l.includes('records sent'))
    .pop();
  const ceiling = Number(/([\d.]+) records\/sec/.exec(summary ?? '')?.[1]);
  if (!Number.isFinite(ceiling))
    throw new Error(`could not read ProducerPerformance output:\n${perf.stdout}${perf.stderr}`);

  const result = {
    events: N,
    partitions: PARTITIONS,
    replicas: REPLICAS,
    message_bytes: recordSize,
    ingest_events_per_second: Math.round(ingestRate),
    // the steady window: events processed in it, and the rate counted from the very first batch
    window_events: done - first.n,
    ingest_events_per_second_from_first_batch: Math.round(fromFirstBatch),
    producer_performance_records_per_second: Math.round(ceiling),
    ratio: Number((ingestRate / ceiling).toFixed(3)),
    ingest_cpu_seconds: Number(last.cpu.ingest.toFixed(1)),
    // Over the measured window only, per 1,000,000 events (null where the server is not local)
    window_cpu_seconds_per_million: {
      ingest: perMillion('ingest'),
      broker: nullIfNaN(perMillion('broker')),
      redis: nullIfNaN(perMillion('redis')),
    },
    window_machine_busy_cores: busyCores(first.machine, last.machine),
    cores: CORES,
  };
  // The run's dedup window (one key per event, kept for a day) is of no further use: left
  // behind, every run grows Redis by a million keys and slows whatever scans it.
  const redis = new Redis(redisUrl);
  let removed = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}dedup:*`, 'COUNT', 10_000);
      cursor = next;
      if (keys.length > 0) removed += await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  log(`removed the run's ${removed} dedup keys from Redis`);

  console.log(JSON.stringify(result));
  log(
    `ingest ${result.ingest_events_per_second} events/s (${result.ingest_cpu_seconds} CPU s); ProducerPerformance ${result.producer_performance_records_per_second} records/s; ratio ${result.ratio}`,
  );
}

/**
 * Whether the group is stable with `replicas` members, each assigned partitions of `topic`.
 */
async function everyReplicaAssigned(
  admin: Admin,
  groupId: string,
  topic: string,
  replicas: number,
): Promise<boolean> {
  const [group] = (await admin.describeGroups([groupId])).groups;
  if (!group || group.state !== 'Stable' || group.members.length !== replicas) return false;
  return group.members.every(
    (m) => (AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment[topic] ?? []).length > 0,
  );
}

/** CPU seconds so far (user + system) of the run's ingest processes, the broker and Redis. */
interface RunCpu {
  ingest: number;
  broker: number;
  redis: number;
}

const nullIfNaN = (x: number) => (Number.isNaN(x) ? null : x);

/**
 * The pids of the local Kafka broker (from deploy/local's pid file) and of Redis (its own
 * `INFO server`), each only when that process runs on this machine.
 */
async function localServerPids(redisUrl: string): Promise<{ broker?: number; redis?: number }> {
  const loopback = (host: string) => ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host);
  const redisHere = loopback(new URL(redisUrl).hostname);
  const brokerHere = brokers.every((b) => loopback(b.slice(0, b.lastIndexOf(':'))));
  const pidFile = join(repo, '.state', 'kafka', 'kafka.pid');
  const brokerPid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : undefined;
  const redis = new Redis(redisUrl);
  try {
    const redisPid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]);
    return {
      broker: brokerHere && brokerPid && processName(brokerPid) === 'java' ? brokerPid : undefined,
      redis: redisHere && redisPid && processName(redisPid)?.startsWith('redis') ? redisPid : undefined,
    };
  } finally {
    redis.disconnect();
  }
}

function runCpu(pids: { broker?: number; redis?: number }, ingest: { pid?: number }[]): RunCpu {
  return {
    ingest: ingest.reduce((sum, c) => sum + processCpuSeconds(c.pid), 0),
    broker: processCpuSeconds(pids.broker),
    redis: processCpuSeconds(pids.redis),
  };
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
