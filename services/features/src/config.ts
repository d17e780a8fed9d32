import { z } from 'zod';
import { commonSettings, loadConfig, setting } from '@reco/platform';
import type { StateLimits } from './domain/user-events';

export const featuresSettings = z.object({
  ...commonSettings,
  REDIS_URL: setting
    .redisUrl()
    .describe('Redis holding user state and item popularity, e.g. redis://127.0.0.1:6379'),
  REDIS_KEY_PREFIX: z
    .string()
    .default('reco:')
    .describe('prefix of every Redis key (inference must use the same)'),
  FEATURES_GROUP_ID: z
    .string()
    .default('reco-features')
    .describe('Kafka consumer group of the clean-event consumer'),
  FEATURES_CONCURRENCY: setting.int(1, 64).default(3).describe('partitions processed at once'),
  FEATURES_MAX_RECENT: setting
    .int(1, 200)
    .default(20)
    .describe('recent items kept per user (the encoder input)'),
  FEATURES_MAX_BOUGHT: setting.int(0, 100).default(8).describe('bought items remembered per user'),
  FEATURES_MAX_CATEGORIES: setting.int(0, 50).default(4).describe('category affinities kept per user'),
  FEATURES_CATEGORY_HALF_LIFE_HOURS: setting
    .int(1, 24 * 365)
    .default(72)
    .describe('category affinity half-life'),
  FEATURES_USER_TTL_DAYS: setting
    .int(1, 3650)
    .default(30)
    .describe('per-user state expires after this long without activity'),
  FEATURES_ENCODE_MAX_BATCH: setting
    .int(1, 4096)
    .default(256)
    .describe('users encoded in one model call at most'),
  FEATURES_ENCODE_MAX_WAIT_MS: setting
    .int(0, 1000)
    .default(3)
    .describe('how long a changed user waits for others to share a model call'),
  FEATURES_REENCODE_RATE: setting
    .int(1, 1_000_000)
    .default(2000)
    .describe('users re-encoded per second after a new model version'),
  FEATURES_POPULARITY_REFRESH_MS: setting
    .int(100, 600_000)
    .default(5000)
    .describe('how often the sliding windows and trending are rebuilt'),
  FEATURES_TRENDING_SIZE: setting.int(10, 100_000).default(2000).describe('items kept in the trending list'),
  FEATURES_SESSION_TIMEOUT_MS: setting
    .int(6000, 300_000)
    .default(30_000)
    .describe('Kafka consumer session timeout'),
  FEATURES_CATALOG_CATCH_UP_MS: setting
    .int(0, 600_000)
    .default(30_000)
    .describe('how long start-up waits for the catalog to be read before consuming events'),
  HTTP_HOST: z.string().default('0.0.0.0').describe('address of /healthz and /metrics'),
});

export type FeaturesConfig = z.infer<typeof featuresSettings>;

export const loadFeaturesConfig = (env: Record<string, string | undefined> = process.env) =>
  loadConfig('features', featuresSettings, env);

export function stateLimits(c: FeaturesConfig): StateLimits {
  return {
    maxRecent: c.FEATURES_MAX_RECENT,
    maxBought: c.FEATURES_MAX_BOUGHT,
    maxCategories: c.FEATURES_MAX_CATEGORIES,
    categoryHalfLifeSeconds: c.FEATURES_CATEGORY_HALF_LIFE_HOURS * 3600,
  };
}
