import { z } from 'zod';
import { ConfigError, commonSettings, loadConfig, setting } from '@reco/platform';
import {
  ExperimentConfigError,
  experimentFromSettings,
  experimentSettings,
  type Experiment,
} from '@reco/experiments';
import type { AttributionOptions } from './domain/attribution';

/** name=url pairs, e.g. "inference=http://127.0.0.1:9101/metrics,ingest=http://127.0.0.1:9102/metrics". */
const scrapeTargets = () =>
  z.string().transform((s, ctx) => {
    const out: { service: string; url: string }[] = [];
    for (const part of s
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)) {
      const at = part.indexOf('=');
      const service = part.slice(0, at).trim();
      const url = part.slice(at + 1).trim();
      if (at <= 0 || !/^https?:\/\/\S+$/.test(url)) {
        ctx.addIssue({ code: 'custom', message: `"${part}": expected name=http://host:port/metrics` });
        return z.NEVER;
      }
      out.push({ service, url });
    }
    return out;
  });

const regex = () =>
  z.string().transform((s, ctx) => {
    try {
      return new RegExp(s);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `not a regular expression: ${(err as Error).message}` });
      return z.NEVER;
    }
  });

export const feedbackSettings = z.object({
  ...commonSettings,
  ...experimentSettings,
  REDIS_URL: setting.redisUrl().describe('Redis holding attribution state and online metrics'),
  REDIS_KEY_PREFIX: z.string().default('reco:').describe('prefix of every Redis key this service writes'),
  HTTP_HOST: z
    .string()
    .default('0.0.0.0')
    .describe('address of the dashboard, the JSON API, /healthz and /metrics'),
  FEEDBACK_GROUP_ID: z.string().default('reco-feedback').describe('Kafka consumer group'),
  FEEDBACK_CONCURRENCY: setting.int(1, 64).default(2).describe('partitions processed at once'),
  FEEDBACK_SESSION_TIMEOUT_MS: setting
    .int(6000, 300_000)
    .default(30_000)
    .describe('Kafka consumer session timeout'),
  FEEDBACK_ATTRIBUTION_WINDOW_MINUTES: z.coerce
    .number()
    .positive()
    .max(7 * 24 * 60)
    .default(30)
    .describe('an event is attributed to an impression at most this long before it'),
  FEEDBACK_ALLOWED_LATENESS_SECONDS: z.coerce
    .number()
    .min(0)
    .max(86400)
    .default(10)
    .describe('how far behind the newest event time an input may arrive and still be on time'),
  FEEDBACK_IDLE_FLUSH_SECONDS: z.coerce
    .number()
    .min(0.1)
    .max(3600)
    .default(5)
    .describe('without impressions for this long (and caught up), waiting events are attributed'),
  FEEDBACK_DEDUP_MINUTES: z.coerce
    .number()
    .min(0)
    .max(7 * 24 * 60)
    .default(10)
    .describe('how long ids are remembered after their window closed'),
  FEEDBACK_MAX_IMPRESSIONS_PER_USER: setting
    .int(1, 100_000)
    .default(200)
    .describe('open impressions kept per user'),
  FEEDBACK_PUBLISH_SKIPS: setting
    .bool()
    .default(true)
    .describe('publish a skip outcome for shown items nobody acted on'),
  FEEDBACK_BUCKET_SECONDS: setting
    .int(1, 86400)
    .default(60)
    .describe('time resolution of the online metrics'),
  FEEDBACK_METRICS_RETENTION_HOURS: setting
    .int(1, 24 * 90)
    .default(48)
    .describe('how long metric buckets are kept'),
  FEEDBACK_WINDOW_MINUTES: setting
    .int(1, 24 * 60 * 90)
    .default(60)
    .describe('default sliding window of the summaries (the API takes ?window=minutes)'),
  FEEDBACK_CONFIDENCE: z.coerce.number().gt(0.5).lt(1).default(0.95).describe('level of the intervals'),
  FEEDBACK_TICK_MS: setting
    .int(50, 60_000)
    .default(1000)
    .describe('how often idle partitions are advanced and lag is read'),
  FEEDBACK_SCRAPE_TARGETS: scrapeTargets()
    .default([])
    .describe("other services' /metrics for the dashboard: name=url[,name=url...]"),
  FEEDBACK_SCRAPE_INTERVAL_SECONDS: z.coerce.number().min(0.5).max(3600).default(5).describe('scrape period'),
  FEEDBACK_LATENCY_HISTOGRAM: regex()
    .default(/_request_(duration_)?seconds$/)
    .describe('regular expression naming the request-latency histogram among the scraped metrics'),
  FEEDBACK_THROUGHPUT_COUNTERS: regex()
    .default(/_(messages_in|events_in|events|requests)_total$/)
    .describe('regular expression naming the counters summed into throughput per service'),
  FEEDBACK_DASHBOARD_REFRESH_SECONDS: z.coerce
    .number()
    .min(0.2)
    .max(600)
    .default(2)
    .describe('live update period'),
});

export type FeedbackConfig = z.infer<typeof feedbackSettings> & { experiment: Experiment };

export function loadFeedbackConfig(env: Record<string, string | undefined> = process.env): FeedbackConfig {
  const config = loadConfig('feedback', feedbackSettings, env);
  try {
    return { ...config, experiment: experimentFromSettings(config) };
  } catch (err) {
    if (err instanceof ExperimentConfigError) throw new ConfigError('feedback', err.problems);
    throw err;
  }
}

export function attributionOptions(config: FeedbackConfig): AttributionOptions {
  return {
    windowMs: config.FEEDBACK_ATTRIBUTION_WINDOW_MINUTES * 60_000,
    allowedLatenessMs: config.FEEDBACK_ALLOWED_LATENESS_SECONDS * 1000,
    idleMs: config.FEEDBACK_IDLE_FLUSH_SECONDS * 1000,
    dedupMs: config.FEEDBACK_DEDUP_MINUTES * 60_000,
    maxImpressionsPerUser: config.FEEDBACK_MAX_IMPRESSIONS_PER_USER,
  };
}
