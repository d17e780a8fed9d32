import { after, before } from 'node:test';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';

/** The Kafka broker and Redis server an integration test talks to. */
export interface TestInfra {
  kafkaBrokers: string[];
  redisUrl: string;
  /** Where they came from: 'env' (KAFKA_BROKERS/REDIS_URL) or 'testcontainers'. */
  source: 'env' | 'testcontainers';
  stop(): Promise<void>;
}

export const NO_INFRA_MESSAGE =
  'Integration tests need a real Kafka broker and Redis. Start the local ones with `pnpm infra:up` ' +
  'and set KAFKA_BROKERS=127.0.0.1:9092 REDIS_URL=redis://127.0.0.1:6379 (the `pnpm test` command does both), ' +
  'or run where a Docker engine answers so that testcontainers can start them.';

let shared: Promise<TestInfra> | undefined;

/**
 * One place that decides where integration tests get Kafka and Redis: the servers named by
 * KAFKA_BROKERS and REDIS_URL when set; otherwise containers, when a Docker engine answers;
 * otherwise an error that says how to start the local ones.
 */
export function getTestInfra(env: Record<string, string | undefined> = process.env): Promise<TestInfra> {
  shared ??= resolveInfra(env);
  return shared;
}

async function resolveInfra(env: Record<string, string | undefined>): Promise<TestInfra> {
  if (env.KAFKA_BROKERS && env.REDIS_URL) {
    return {
      kafkaBrokers: env.KAFKA_BROKERS.split(',').map((s) => s.trim()),
      redisUrl: env.REDIS_URL,
      source: 'env',
      stop: async () => undefined,
    };
  }
  if (!(await dockerAnswers())) throw new Error(NO_INFRA_MESSAGE);
  const { KafkaContainer } = await import('@testcontainers/kafka');
  const { RedisContainer } = await import('@testcontainers/redis');
  const [kafka, redis] = await Promise.all([
    new KafkaContainer('apache/kafka:4.1.1').withKraft().start(),
    new RedisContainer('redis:7.4').start(),
  ]);
  return {
    kafkaBrokers: [`${kafka.getHost()}:${kafka.getMappedPort(9093)}`],
    redisUrl: redis.getConnectionUrl(),
    source: 'testcontainers',
    stop: async () => {
      await Promise.all([kafka.stop(), redis.stop()]);
    },
  };
}

async function dockerAnswers(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

/** A prefix unique to one test run, for topic names, consumer groups and Redis keys. */
export function uniquePrefix(name: string): string {
  return `test.${name}.${Date.now().toString(36)}${randomBytes(3).toString('hex')}.`;
}

/**
 * For a test file: its Kafka and Redis (getTestInfra) and one Redis connection, opened in a
 * `before` hook and closed in an `after` hook. Read the properties inside tests.
 */
export function useTestInfra(): { readonly infra: TestInfra; readonly redis: Redis } {
  let infra: TestInfra | undefined;
  let redis: Redis | undefined;
  before(async () => {
    infra = await getTestInfra();
    redis = new Redis(infra.redisUrl);
  });
  after(async () => {
    redis?.disconnect();
    await infra?.stop();
  });
  const ready = <T>(x: T | undefined): T => {
    if (x === undefined) throw new Error('useTestInfra: read inside a test, after the before hook');
    return x;
  };
  return {
    get infra() {
      return ready(infra);
    },
    get redis() {
      return ready(redis);
    },
  };
}
