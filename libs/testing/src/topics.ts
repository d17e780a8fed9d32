import { Kafka, logLevel, type KafkaMessage, type Producer, type ProducerConfig } from 'kafkajs';
import type { TestInfra } from './infra';

export type ConsumedMessage = KafkaMessage & { partition: number };

/**
 * Reads a topic from the beginning until `expected` messages arrived or the topic stayed
 * quiet for `quietMs` after that (to catch extra messages), or `timeoutMs` passed.
 * Reads with isolation read_committed, as every service does. Each position is returned once.
 */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  options: { expected: number; timeoutMs?: number; quietMs?: number },
): Promise<ConsumedMessage[]> {
  const { expected, timeoutMs = 60_000, quietMs = 1500 } = options;
  const consumer = kafka.consumer({
    groupId: `reader-${topic}-${Date.now()}-${Math.random()}`,
    readUncommitted: false,
  });
  const received: ConsumedMessage[] = [];
  // A rebalance of this reader's own group may hand it a batch again; a message is its position.
  const positions = new Set<string>();
  let lastArrival = Date.now();
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        const position = `${batch.partition}/${m.offset}`;
        if (positions.has(position)) continue;
        positions.add(position);
        received.push({ ...m, partition: batch.partition });
      }
      lastArrival = Date.now();
    },
  });
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      if (received.length >= expected && Date.now() - lastArrival >= quietMs) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await consumer.disconnect();
  }
  return received;
}

/** A kafkajs client on the test's broker that keeps its logs quiet. */
export function testKafka(infra: Pick<TestInfra, 'kafkaBrokers'>, clientId: string): Kafka {
  return new Kafka({ clientId, brokers: infra.kafkaBrokers, logLevel: logLevel.NOTHING });
}

/**
 * A producer for a test's input: idempotent, because kafkajs resends a whole produce request
 * when one of its partitions fails, and a plain producer then writes a second copy of the
 * partitions that had succeeded (an ingest test once saw 494 dead letters for 483 malformed
 * messages).
 */
export function inputProducer(kafka: Kafka, config: ProducerConfig = {}): Producer {
  return kafka.producer({ ...config, idempotent: true });
}

/**
 * Deletes every topic whose name starts with `prefix` (a benchmark's or test run's own).
 * A benchmark run leaves hundreds of megabytes of log; left behind, runs filled this machine's
 * disk and stopped the broker.
 */
export async function deleteTopicsWithPrefix(kafka: Kafka, prefix: string): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 60_000 });
    return topics;
  } finally {
    await admin.disconnect();
  }
}
