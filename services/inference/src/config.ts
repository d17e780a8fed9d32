import { join } from 'node:path';
import { z } from 'zod';
import { Pseudonymizer } from '@reco/platform';
import {
  ArmAssigner,
  armModel,
  experimentFromSettings,
  experimentSettings,
  type Experiment,
} from '@reco/experiments';
import { commonSettings, loadConfig, setting } from '@reco/platform';
import type { SearcherOptions } from '@reco/ann';
import type { RequestLimits } from './domain/validation';
import type { RecommenderSettings } from './recommender';

const share = z.coerce.number().gt(0).max(1);

export const inferenceSettings = z.object({
  ...commonSettings,
  REDIS_URL: setting
    .redisUrl()
    .describe('Redis holding user state (written by features), e.g. redis://127.0.0.1:6379'),
  REDIS_KEY_PREFIX: z.string().default('reco:').describe('prefix of every Redis key (the same as features)'),
  REDIS_TIMEOUT_MS: setting
    .int(1, 10_000)
    .default(25)
    .describe('longest wait for a user read before answering without personalization'),
  GRPC_HOST: z.string().default('0.0.0.0').describe('address of the gRPC server'),
  GRPC_PORT: setting.int(0, 65535).default(50051).describe('gRPC port; 0 picks a free one'),
  HTTP_HOST: z.string().default('0.0.0.0').describe('address of /healthz and /metrics'),
  INFERENCE_PROCESSES: setting
    .int(1, 256)
    .default(1)
    .describe(
      'processes serving on this machine, sharing GRPC_PORT; /metrics sums them. On 2 cores shared with other servers two were not faster (docs/benchmarks.md, S50-S54)',
    ),
  INFERENCE_GROUP_ID: z
    .string()
    .default('reco-inference')
    .describe('prefix of this replica’s own consumer groups (catalog, models)'),
  INFERENCE_PROTO_DIR: z
    .string()
    .default(join(__dirname, '..', '..', '..', 'proto'))
    .describe('proto/ root, for server reflection'),
  INFERENCE_MAX_K: setting.int(1, 10_000).default(100).describe('largest k a request may ask for'),
  INFERENCE_MAX_ID_LENGTH: setting.int(1, 4096).default(128).describe('longest user or item id accepted'),
  INFERENCE_MAX_QUERY_LENGTH: setting.int(1, 10_000).default(256).describe('longest search query accepted'),
  INFERENCE_MAX_FILTER_VALUES: setting
    .int(1, 100_000)
    .default(200)
    .describe('most categories or excluded ids in one filter'),
  INFERENCE_ANN_CANDIDATES: setting
    .int(1, 10_000)
    .default(100)
    .describe('candidates taken from the ANN index'),
  INFERENCE_TRANSITION_CANDIDATES: setting
    .int(0, 10_000)
    .default(100)
    .describe('candidates from item transitions'),
  INFERENCE_ANN_M: setting.int(4, 128).default(16).describe('HNSW graph degree'),
  INFERENCE_ANN_EF_CONSTRUCTION: setting
    .int(10, 2000)
    .default(800)
    .describe(
      'HNSW build candidate list (800: the calibrated search candidate list at 100,000 items is 125, against 250 at 400 and 600 at 200; each doubling about doubles the build)',
    ),
  INFERENCE_ANN_EF_SEARCH: setting
    .int(10, 5000)
    .default(100)
    .describe(
      'HNSW search candidate list: the floor that calibration raises (INFERENCE_ANN_TARGET_RECALL), or the value used when that is 0',
    ),
  INFERENCE_ANN_TARGET_RECALL: z.coerce
    .number()
    .min(0)
    .max(1)
    .default(0.97)
    .describe(
      'recall@candidates against exact search that each index calibrates its search candidate list to on a sample of queries when built (0.97 leaves room for the sample’s error so other queries clear 0.95); 0 = off, INFERENCE_ANN_EF_SEARCH as given',
    ),
  INFERENCE_ANN_MAX_EF_SEARCH: setting
    .int(10, 10_000)
    .default(1000)
    .describe(
      'largest search candidate list calibration may choose (bounds search time when the target is out of reach)',
    ),
  INFERENCE_ANN_THREAD: z
    .enum(['build', 'search', 'none', 'true', 'false'])
    .default('search')
    .transform((v) => (v === 'true' ? 'search' : v === 'false' ? 'none' : v))
    .describe(
      "where each version's ANN index lives: search = built and searched on a worker thread (default); build = built on a worker thread, searched on the event loop; none = built in slices and searched on the event loop (true/false: search/none)",
    ),
  INFERENCE_ANN_SEARCH_THREADS: setting
    .int(1, 64)
    .default(1)
    .describe(
      "with INFERENCE_ANN_THREAD=search, worker threads searching each version's index, each with its own copy (one builds it, the others load it); a search goes to the one with the fewest pending",
    ),
  INFERENCE_SEARCH_THREAD: setting
    .bool()
    .default(true)
    .describe('keep the lexical search index on its own worker thread, out of the serving heap'),
  INFERENCE_MAX_CATEGORY_SHARE: share.default(0.5).describe('max share of one category in the top k'),
  INFERENCE_JUST_VIEWED: setting
    .int(0, 200)
    .default(3)
    .describe('the user’s last n items are not recommended'),
  INFERENCE_NEW_ARRIVAL_DAYS: setting
    .int(0, 3650)
    .default(14)
    .describe('items this new are labelled "new arrival"'),
  INFERENCE_SEARCH_BLEND: z.coerce
    .number()
    .min(0)
    .max(1)
    .default(0.3)
    .describe('weight of the user’s interest in search order'),
  INFERENCE_SEARCH_CANDIDATES: setting
    .int(1, 10_000)
    .default(200)
    .describe('lexical hits considered per search'),
  INFERENCE_SCORE_MAX_BATCH: setting
    .int(1, 4096)
    .default(64)
    .describe('requests scored in one batched model call at most'),
  INFERENCE_SCORE_MAX_WAIT_MS: setting
    .int(0, 100)
    .default(0)
    .describe('how long a request waits for others to share a model call (0 = same event-loop turn)'),
  INFERENCE_KEEP_VERSIONS: setting
    .int(1, 5)
    .default(2)
    .describe('model versions kept loaded (users not yet re-encoded use the older one)'),
  ...experimentSettings,
  RECO_PSEUDONYMIZATION_KEY: z
    .string()
    .min(32, 'must be at least 32 characters')
    .optional()
    .describe(
      "ingest's HMAC key: when set, incoming user ids are raw and pseudonymized here; when unset they are already pseudonyms",
    ),
  INFERENCE_POPULARITY_REFRESH_MS: setting
    .int(100, 600_000)
    .default(2000)
    .describe('how often trending lists are copied from Redis'),
  INFERENCE_IMPRESSION_FLUSH_MS: setting.int(1, 60_000).default(50).describe('impression batch period'),
  INFERENCE_IMPRESSION_QUEUE: setting
    .int(1, 10_000_000)
    .default(50_000)
    .describe('impressions queued at most; the overflow is dropped and counted'),
});

export type InferenceConfig = z.infer<typeof inferenceSettings>;

export const loadInferenceConfig = (env: Record<string, string | undefined> = process.env) =>
  loadConfig('inference', inferenceSettings, env);

export const requestLimits = (c: InferenceConfig): RequestLimits => ({
  maxK: c.INFERENCE_MAX_K,
  maxIdLength: c.INFERENCE_MAX_ID_LENGTH,
  maxQueryLength: c.INFERENCE_MAX_QUERY_LENGTH,
  maxFilterValues: c.INFERENCE_MAX_FILTER_VALUES,
});

/** How each model version's ANN index is built, calibrated and placed. */
export const annOptions = (c: InferenceConfig): SearcherOptions => ({
  m: c.INFERENCE_ANN_M,
  efConstruction: c.INFERENCE_ANN_EF_CONSTRUCTION,
  efSearch: c.INFERENCE_ANN_EF_SEARCH,
  targetRecall: c.INFERENCE_ANN_TARGET_RECALL,
  maxEfSearch: c.INFERENCE_ANN_MAX_EF_SEARCH,
  calibrationK: c.INFERENCE_ANN_CANDIDATES,
  thread: ({ build: 'build', search: true, none: false } as const)[c.INFERENCE_ANN_THREAD],
  threads: c.INFERENCE_ANN_SEARCH_THREADS,
});

export const recommenderSettings = (c: InferenceConfig): RecommenderSettings => ({
  annCandidates: c.INFERENCE_ANN_CANDIDATES,
  transitionCandidates: c.INFERENCE_TRANSITION_CANDIDATES,
  maxCategoryShare: c.INFERENCE_MAX_CATEGORY_SHARE,
  justViewed: c.INFERENCE_JUST_VIEWED,
  newArrivalDays: c.INFERENCE_NEW_ARRIVAL_DAYS,
  searchBlend: c.INFERENCE_SEARCH_BLEND,
  searchCandidates: c.INFERENCE_SEARCH_CANDIDATES,
  experiment: new ArmAssigner(experimentFromSettings(c)),
  pseudonymizer: c.RECO_PSEUDONYMIZATION_KEY
    ? new Pseudonymizer(Buffer.from(c.RECO_PSEUDONYMIZATION_KEY, 'utf8'))
    : undefined,
  scoreBatch: { maxBatch: c.INFERENCE_SCORE_MAX_BATCH, maxWaitMs: c.INFERENCE_SCORE_MAX_WAIT_MS },
});

/** Model versions that experiment arms serve by name: kept loaded. */
export const pinnedVersions = (experiment: Experiment): Set<string> =>
  new Set(
    experiment.arms.flatMap((arm) => {
      const m = armModel(arm);
      return m.kind === 'version' ? [m.version] : [];
    }),
  );
