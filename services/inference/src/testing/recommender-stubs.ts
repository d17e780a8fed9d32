import type { Impression } from '@reco/contracts';
import { ArmAssigner, DEFAULT_EXPERIMENT, type Experiment } from '@reco/experiments';
import { Registry } from '@reco/platform';
import { createInferenceMetrics, type InferenceMetrics } from '../adapters/inference-metrics';
import type { ModelRegistry } from '../adapters/model-registry';
import type { UserRead } from '../adapters/user-reader';
import { Catalog } from '../domain/catalog';
import { DEFAULT_REQUEST_LIMITS } from '../domain/validation';
import { Recommender, type RecommenderDeps } from '../recommender';

/** A Recommender over in-memory stubs (no model loaded, no Redis, no Kafka), for tests. */
export interface StubbedRecommender {
  recommender: Recommender;
  /** Impressions the recommender published. */
  published: Impression[];
  metrics: InferenceMetrics;
  /** User ids read, in order. */
  reads: string[];
}

export function stubRecommender(
  opts: {
    /** The user read (default: an unknown user, at once). */
    read?: (userId: string) => Promise<UserRead>;
    experiment?: Experiment;
    items?: number;
  } = {},
): StubbedRecommender {
  const catalog = new Catalog();
  const n = opts.items ?? 10;
  for (let i = 0; i < n; i++)
    catalog.upsert({
      itemId: `item-${i}`,
      title: `item ${i}`,
      brand: 'acme',
      categoryPath: [i % 2 ? 'Shoes' : 'Hats'],
      price: 10 + i,
      inStock: true,
      createdAt: Date.parse('2024-01-01T00:00:00Z'),
    });
  // no version loaded: every answer is the popular fallback
  const registry = {
    current: undefined,
    byTag: () => undefined,
    byVersion: () => undefined,
  } as unknown as ModelRegistry;
  const published: Impression[] = [];
  const reads: string[] = [];
  const metrics = createInferenceMetrics(new Registry());
  const read = opts.read ?? (async () => ({ state: undefined, degraded: false as const }));
  const deps: RecommenderDeps = {
    catalog,
    registry,
    users: {
      read: (userId) => {
        reads.push(userId);
        return read(userId);
      },
    },
    popularity: {
      trending: Array.from({ length: n }, (_, i) => ({ itemId: `item-${i}`, score: n - i })),
      popular24h: [],
    },
    search: {
      search: async (query) =>
        [...catalog.all()]
          .filter((i) => i.title.includes(query))
          .map((i, rank) => ({ itemId: i.itemId, score: 1 / (rank + 1) })),
    },
    impressions: { publish: (i) => published.push(i) },
    metrics,
    limits: DEFAULT_REQUEST_LIMITS,
    settings: {
      annCandidates: 10,
      transitionCandidates: 0,
      maxCategoryShare: 1,
      justViewed: 3,
      newArrivalDays: 30,
      searchBlend: 0.3,
      searchCandidates: 50,
      experiment: new ArmAssigner(opts.experiment ?? DEFAULT_EXPERIMENT),
      scoreBatch: { maxBatch: 8, maxWaitMs: 1 },
    },
  };
  return { recommender: new Recommender(deps), published, metrics, reads };
}

/** A user read that answers (an unknown user) only once `until()` is true, checked every few ms. */
export const readWhen = (until: () => boolean) => async (): Promise<UserRead> => {
  while (!until()) await new Promise((r) => setTimeout(r, 2));
  return { state: undefined, degraded: false };
};
