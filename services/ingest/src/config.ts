import { hostname } from 'node:os';
import { z } from 'zod';
import { commonSettings, loadConfig, setting } from '@reco/platform';
import { DEFAULT_LIMITS, type ValidationLimits } from './domain/limits';

export const ingestSettings = z.object({
  ...commonSettings,
  REDIS_URL: setting.redisUrl().describe('Redis holding the dedup window, e.g. redis://127.0.0.1:6379'),
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[^{}]*$/, 'must not contain { or } (the dedup keys carry a Redis hash tag)')
    .default('reco:')
    .describe('prefix of every Redis key this service writes'),
  RECO_PSEUDONYMIZATION_KEY: z
    .string()
    .min(32, 'must be at least 32 characters')
    .describe('secret HMAC key that pseudonymizes user ids; keep it stable, rotate with a replay'),
  INGEST_GROUP_ID: z.string().default('reco-ingest').describe('Kafka consumer group'),
  INGEST_TRANSACTIONAL_ID: z
    .string()
    .default(`reco-ingest-${hostname()}`)
    .describe('Kafka transactional id; stable per replica so a restart fences its predecessor'),
  INGEST_CONCURRENCY: setting
    .int(1, 32)
    .default(3)
    .describe(
      'partitions processed at once, each with its own transactional producer; keep it at most the partitions a replica owns',
    ),
  INGEST_DEDUP_WINDOW_SECONDS: setting
    .int(1, 30 * 86400)
    .default(86400)
    .describe('how long an event id is remembered'),
  INGEST_MAX_EVENT_AGE_DAYS: setting.int(1, 3650).default(30).describe('oldest accepted event time'),
  INGEST_MAX_CLOCK_SKEW_SECONDS: setting
    .int(0, 86400)
    .default(300)
    .describe('how far in the future an event time may be'),
  INGEST_ALLOW_UNKNOWN_JSON_FIELDS: setting
    .bool()
    .default(false)
    .describe('accept JSON fields not in the schema'),
  INGEST_SESSION_TIMEOUT_MS: setting
    .int(6000, 300_000)
    .default(30_000)
    .describe("Kafka consumer session timeout: how soon a dead replica's partitions move"),
  HTTP_HOST: z.string().default('0.0.0.0').describe('address of /healthz and /metrics'),
});

export type IngestConfig = z.infer<typeof ingestSettings>;

export const loadIngestConfig = (env: Record<string, string | undefined> = process.env) =>
  loadConfig('ingest', ingestSettings, env);

export function validationLimits(config: IngestConfig): ValidationLimits {
  return {
    ...DEFAULT_LIMITS,
    maxEventAgeMs: config.INGEST_MAX_EVENT_AGE_DAYS * 86400_000,
    maxClockSkewMs: config.INGEST_MAX_CLOCK_SKEW_SECONDS * 1000,
    allowUnknownJsonFields: config.INGEST_ALLOW_UNKNOWN_JSON_FIELDS,
  };
}
