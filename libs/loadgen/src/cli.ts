#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { TOPICS } from '@reco/contracts';
import { generateClickstream } from './clickstream';
import { publishMessages } from './publish';

const USAGE = `reco-loadgen: publish a synthetic clickstream to the raw topic

  --brokers H:P[,H:P]   Kafka (default $KAFKA_BROKERS or 127.0.0.1:9092)
  --topic NAME          default ${TOPICS.clickstreamRaw.name} (with $RECO_TOPIC_PREFIX)
  --count N             events to publish (default 10000)
  --rate N              events per second, 0 = unthrottled (default 1000)
  --users N --items N   population sizes (default 1000, 5000)
  --malformed SHARE     share of malformed events, one of each rule in turn (default 0)
  --duplicates SHARE    share of repeated events (default 0)
  --format json|protobuf|mixed   (default json)
  --seed N              (default 1)`;

async function main() {
  const { values } = parseArgs({
    options: {
      brokers: { type: 'string' },
      topic: { type: 'string' },
      count: { type: 'string', default: '10000' },
      rate: { type: 'string', default: '1000' },
      users: { type: 'string', default: '1000' },
      items: { type: 'string', default: '5000' },
      malformed: { type: 'string', default: '0' },
      duplicates: { type: 'string', default: '0' },
      format: { type: 'string', default: 'json' },
      seed: { type: 'string', default: '1' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const num = (name: keyof typeof values, min: number, max: number) => {
    const v = Number(values[name]);
    if (!Number.isFinite(v) || v < min || v > max)
      throw new Error(`--${name} must be a number in [${min}, ${max}]`);
    return v;
  };
  const format = values.format as 'json' | 'protobuf' | 'mixed';
  if (!['json', 'protobuf', 'mixed'].includes(format))
    throw new Error('--format must be json, protobuf or mixed');
  const brokers = (values.brokers ?? process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
  const topic = values.topic ?? (process.env.RECO_TOPIC_PREFIX ?? '') + TOPICS.clickstreamRaw.name;
  const kafka = new Kafka({ clientId: 'reco-loadgen', brokers, logLevel: logLevel.WARN });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const count = num('count', 1, 1e9);
  const started = Date.now();
  const counts = { valid: 0, duplicate: 0, malformed: 0 };
  const stream = (function* () {
    for (const m of generateClickstream({
      count,
      users: num('users', 1, 1e9),
      items: num('items', 1, 1e9),
      seed: num('seed', 0, 2 ** 31),
      malformedShare: num('malformed', 0, 1),
      duplicateShare: num('duplicates', 0, 1),
      format,
    })) {
      counts[m.kind]++;
      yield m;
    }
  })();
  const sent = await publishMessages(producer, topic, stream, { rate: num('rate', 0, 1e7) });
  await producer.disconnect();
  const seconds = (Date.now() - started) / 1000;
  console.log(JSON.stringify({ topic, sent, ...counts, seconds, perSecond: Math.round(sent / seconds) }));
}

main().catch((err) => {
  console.error(`reco-loadgen: ${(err as Error).message}`);
  process.exit(1);
});
