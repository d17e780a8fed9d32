import { Kafka, Partitioners, logLevel, type Admin, type ICustomPartitioner, type LogEntry } from 'kafkajs';
import { TOPICS, topicConfigEntries, type TopicId } from '@reco/contracts';
import type { Logger } from './logger';

/** A kafkajs client whose log lines go through the service's JSON logger. */
export function createKafka(clientId: string, brokers: string[], logger: Logger): Kafka {
  const logCreator = () => (entry: LogEntry) => {
    const { message, ...rest } = entry.log;
    const fields = { kafka: entry.namespace, ...rest };
    if (entry.level === logLevel.ERROR) logger.error(fields, message);
    else if (entry.level === logLevel.WARN) logger.warn(fields, message);
    else if (entry.level === logLevel.INFO) logger.debug(fields, message);
  };
  return new Kafka({ clientId, brokers, logLevel: logLevel.WARN, logCreator, retry: { retries: 8 } });
}

export interface TopicOptions {
  prefix: string;
  partitions?: number;
  replicationFactor: number;
}

/**
 * Creates the named topics from the registry if they do not exist (idempotent: several
 * services may race to create the same topic at start-up).
 */
export async function ensureTopics(admin: Admin, ids: TopicId[], options: TopicOptions): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = ids
    .map((id) => TOPICS[id])
    .filter((spec) => !existing.has(options.prefix + spec.name))
    .map((spec) => ({
      topic: options.prefix + spec.name,
      numPartitions: options.partitions ?? spec.partitions,
      replicationFactor: options.replicationFactor,
      configEntries: topicConfigEntries(spec),
    }));
  if (missing.length === 0) return;
  try {
    // kafkajs' waitForLeaders (on by default) fails on UNKNOWN_TOPIC_OR_PARTITION: ours waits below
    await admin.createTopics({ topics: missing, waitForLeaders: false });
  } catch (err) {
    // Another instance created it between our list and create: that is the state we wanted.
    if ((err as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS') throw err;
  }
  await waitForLeaders(
    admin,
    missing.map((t) => t.topic),
  );
}

/** Metadata answers that only mean "not yet" right after a topic is created. */
const NOT_YET = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE']);

/** Partition answers that only mean "not yet": a just-created topic or a just-started broker. */
const NOT_LEADER_YET = new Set([...NOT_YET, 'NOT_LEADER_OR_FOLLOWER', 'NOT_LEADER_FOR_PARTITION']);

/**
 * Calls `attempt` every `pauseMs` until it returns a value, while it returns undefined (not
 * ready) or throws a Kafka error whose type is in `notYet`; any other error passes through.
 * At the deadline it throws `giveUp(last)`: the last "not yet" error, or undefined.
 */
async function untilReady<T>(
  attempt: () => Promise<T | undefined>,
  notYet: ReadonlySet<string>,
  timeoutMs: number,
  pauseMs: number,
  giveUp: (last: unknown) => Error,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let last: unknown;
    try {
      const value = await attempt();
      if (value !== undefined) return value;
    } catch (err) {
      if (!notYet.has((err as { type?: string }).type ?? '')) throw err;
      last = err;
    }
    if (Date.now() >= deadline) throw giveUp(last);
    await new Promise((r) => setTimeout(r, pauseMs));
  }
}

/**
 * Waits until every partition of `topics` has a leader. kafkajs' own `waitForLeaders` retries
 * only LEADER_NOT_AVAILABLE, but a broker that has just started can also answer
 * UNKNOWN_TOPIC_OR_PARTITION for a topic it has just created, and that failed start-ups.
 */
export async function waitForLeaders(
  admin: Pick<Admin, 'fetchTopicMetadata'>,
  topics: string[],
  timeoutMs = 30_000,
  pauseMs = 100,
): Promise<void> {
  await untilReady(
    async () => {
      const { topics: meta } = await admin.fetchTopicMetadata({ topics });
      const ready = meta.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0));
      return ready && meta.length === topics.length ? true : undefined;
    },
    NOT_YET,
    timeoutMs,
    pauseMs,
    (last) =>
      new Error(
        `topics ${topics.join(', ')} have no leader after ${timeoutMs} ms (${
          (last as { type?: string } | undefined)?.type ?? 'no partitions yet'
        })`,
      ),
  );
}

/**
 * `admin.fetchTopicOffsets`, retried while the broker answers "not the leader yet". Metadata
 * can name a partition's leader before that broker serves ListOffsets for it (seen on a
 * KRaft broker seconds after start-up), and kafkajs' admin does not retry that answer.
 */
export function fetchTopicEnds(
  admin: Pick<Admin, 'fetchTopicOffsets'>,
  topic: string,
  timeoutMs = 30_000,
  pauseMs = 200,
): ReturnType<Admin['fetchTopicOffsets']> {
  return untilReady(
    () => admin.fetchTopicOffsets(topic),
    NOT_LEADER_YET,
    timeoutMs,
    pauseMs,
    (last) =>
      last instanceof Error ? last : new Error(`offsets of ${topic}: no answer after ${timeoutMs} ms`),
  );
}

/** Kafka message headers as plain strings (kafkajs gives Buffers, strings or arrays). */
export function headersToStrings(headers: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  for (const [key, value] of Object.entries(headers)) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined && first !== null)
      out[key] = Buffer.isBuffer(first) ? first.toString('utf8') : String(first);
  }
  return out;
}

/**
 * kafkajs' default (Java-compatible murmur2) partitioner, remembered per key: the same users
 * come back constantly, and hashing plus the per-message metadata filter were a visible share
 * of ingest's CPU. Same partitions as the default, so other producers keyed alike agree.
 */
export const memoizedKeyPartitioner: ICustomPartitioner = () => {
  const fallback = Partitioners.DefaultPartitioner();
  // Per topic, for its current partition count: key → partition (no key string built per message).
  const memos = new Map<string, { partitions: number; byKey: Map<string, number> }>();
  return (args) => {
    const { topic, partitionMetadata, message } = args;
    if (message.partition !== null && message.partition !== undefined) return message.partition;
    if (message.key === null || message.key === undefined) return fallback(args);
    let memo = memos.get(topic);
    if (!memo || memo.partitions !== partitionMetadata.length) {
      memo = { partitions: partitionMetadata.length, byKey: new Map() };
      memos.set(topic, memo);
    }
    const key = typeof message.key === 'string' ? message.key : message.key.toString();
    let partition = memo.byKey.get(key);
    if (partition === undefined) {
      partition = fallback(args);
      if (memo.byKey.size >= 200_000) memo.byKey.clear();
      memo.byKey.set(key, partition);
    }
    return partition;
  };
};
