/**
 * The main job (README's first command runs it after set-up): a live run of the pipeline on
 * the local Kafka and Redis. Today: ingest. It publishes a small synthetic clickstream with
 * malformed and repeated events mixed in and shows what came out on each topic.
 */
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { ClickstreamEvent, DeadLetter, eventTypeToJSON, topicNames } from '@reco/contracts';
import { generateClickstream, publishMessages } from '@reco/loadgen';
import { ensureTopics } from '@reco/platform';
import { readTopic } from '@reco/testing';
import { startService } from './service-process';

const repo = join(__dirname, '..', '..', '..');
const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const say = (s = '') => console.log(s);

async function main() {
  // Each run gets its own topics so that what it prints is what this run produced.
  const prefix = `demo.${new Date()
    .toISOString()
    .replace(/[-:.TZ]/g, '')
    .slice(0, 14)}.`;
  const topics = topicNames(prefix);
  const kafka = new Kafka({ clientId: 'reco-demo', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, ['clickstreamRaw', 'catalogRaw', 'eventsClean', 'catalog', 'deadLetter'], {
    prefix,
    replicationFactor: 1,
  });
  await admin.disconnect();

  say(`== reco demo (topics prefixed "${prefix}")`);
  say('starting ingest ...');
  const ingest = await startService(
    'ingest',
    join(repo, 'services', 'ingest', 'dist', 'main.js'),
    {
      KAFKA_BROKERS: brokers,
      REDIS_URL: redisUrl,
      RECO_TOPIC_PREFIX: prefix,
      REDIS_KEY_PREFIX: `reco:${prefix}`,
      RECO_PSEUDONYMIZATION_KEY:
        process.env.RECO_PSEUDONYMIZATION_KEY ?? 'demo-key-change-me-in-production-0123456789',
      INGEST_GROUP_ID: `${prefix}ingest`,
      INGEST_TRANSACTIONAL_ID: `${prefix}ingest`,
      HTTP_PORT: '0',
      HTTP_HOST: '127.0.0.1',
    },
    'ingest consuming',
  );
  try {
    const messages = [
      ...generateClickstream({
        count: 2000,
        users: 50,
        items: 500,
        seed: Date.now() % 100_000,
        malformedShare: 0.05,
        duplicateShare: 0.02,
        format: 'mixed',
      }),
    ];
    const count = (kind: string) => messages.filter((m) => m.kind === kind).length;
    say(
      `publishing ${messages.length} raw events (${count('valid')} valid, ${count('duplicate')} repeats, ${count('malformed')} malformed; JSON and protobuf mixed) ...`,
    );
    const producer = kafka.producer();
    await producer.connect();
    const started = Date.now();
    await publishMessages(producer, topics.clickstreamRaw, messages, { rate: 0 });
    await producer.disconnect();

    const clean = await readTopic(kafka, topics.eventsClean, { expected: count('valid'), timeoutMs: 60_000 });
    const letters = await readTopic(kafka, topics.deadLetter, {
      expected: count('malformed'),
      timeoutMs: 30_000,
    });
    say(`\nwithin ${((Date.now() - started) / 1000).toFixed(1)} s:`);
    say(`  ${topics.eventsClean}: ${clean.length} events (expected ${count('valid')})`);
    say(`  ${topics.deadLetter}: ${letters.length} dead letters (expected ${count('malformed')})`);
    const sample = ClickstreamEvent.decode(clean[0]!.value!);
    say('\na clean event (user id pseudonymized, keyed by it):');
    say(
      `  ${JSON.stringify({ ...(ClickstreamEvent.toJSON(sample) as object), type: eventTypeToJSON(sample.type) })}`,
    );
    const reasons = new Map<string, number>();
    for (const l of letters) {
      const d = DeadLetter.decode(l.value!);
      const k = `${d.reason}${d.field ? ` (${d.field})` : ''}`;
      reasons.set(k, (reasons.get(k) ?? 0) + 1);
    }
    say('\ndead letters by reason:');
    for (const [k, n] of [...reasons].sort()) say(`  ${String(n).padStart(3)}  ${k}`);
    const metrics = await (await fetch(`http://127.0.0.1:${ingest.httpPort}/metrics`)).text();
    say(`\ningest /metrics (http://127.0.0.1:${ingest.httpPort}/metrics):`);
    for (const line of metrics.split('\n').filter((l) => /^ingest_(messages|duplicates)/.test(l)))
      say(`  ${line}`);
  } finally {
    await ingest.stop();
  }
  say('\ningest stopped. Kafka and Redis keep running; stop them with: bash deploy/local/infra.sh stop');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
