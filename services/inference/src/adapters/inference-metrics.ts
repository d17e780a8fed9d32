import { Counter, Gauge, Histogram, StageHistogram, type Registry } from '@reco/platform';

const FAST = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

/** What inference reports on /metrics. */
export function createInferenceMetrics(registry: Registry) {
  const r = [registry];
  // Gauges of what every process of a group holds alike: /metrics of a group shows one
  // process's value, not the sum (INFERENCE_PROCESSES).
  const alike = 'max' as const;
  return {
    requests: new Counter({
      name: 'inference_requests_total',
      help: 'gRPC requests by method and status code',
      labelNames: ['method', 'code'],
      registers: r,
    }),
    // observed several times a request: the one-label histogram, not prom-client's
    requestSeconds: new StageHistogram({
      name: 'inference_request_seconds',
      help: 'handler time per request',
      labelName: 'method',
      buckets: FAST,
      registers: r,
    }),
    stageSeconds: new StageHistogram({
      name: 'inference_stage_seconds',
      help: 'time per request stage: redis, ann, model (batched scoring, incl. waiting for the batch), rules, search, serialize',
      labelName: 'stage',
      buckets: FAST,
      registers: r,
    }),
    fallback: new Counter({
      name: 'inference_fallback_total',
      help: 'non-personalized answers, by reason (cold_start, redis_error, redis_timeout, unknown_version, no_model)',
      labelNames: ['method', 'reason'],
      registers: r,
    }),
    popularFill: new Counter({
      name: 'inference_popular_fill_total',
      help: 'personalized answers that rules left short of k, filled with popular items',
      labelNames: ['method'],
      registers: r,
    }),
    scoreBatchSize: new Histogram({
      name: 'inference_score_batch_size',
      help: 'requests per batched model call',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128],
      registers: r,
    }),
    annBatchSize: new Histogram({
      name: 'inference_ann_batch_size',
      help: 'searches per message to an ANN index thread (those asked for in one event-loop turn, or while it was busy)',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128],
      registers: r,
    }),
    userReadBatchSize: new Histogram({
      name: 'inference_user_read_batch_size',
      help: 'user states per Redis read (one MGET for the reads requested in one event-loop turn)',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128],
      registers: r,
    }),
    impressions: new Counter({
      name: 'inference_impressions_total',
      help: 'impressions by outcome (sent, dropped, failed)',
      labelNames: ['outcome'],
      registers: r,
    }),
    modelVersion: new Gauge({
      name: 'inference_model_info',
      aggregator: alike,
      help: '1 for the current model version',
      labelNames: ['version'],
      registers: r,
    }),
    annEfSearch: new Gauge({
      name: 'inference_ann_ef_search',
      aggregator: alike,
      help: 'search candidate list of each loaded model version’s ANN index (calibrated to INFERENCE_ANN_TARGET_RECALL at build)',
      labelNames: ['version'],
      registers: r,
    }),
    annCalibratedRecall: new Gauge({
      name: 'inference_ann_calibrated_recall',
      aggregator: alike,
      help: 'recall@candidates against exact search that the build measured at that candidate list, per loaded model version',
      labelNames: ['version'],
      registers: r,
    }),
    catalogItems: new Gauge({
      name: 'inference_catalog_items',
      aggregator: alike,
      help: 'catalog items in memory',
      registers: r,
    }),
  };
}

export type InferenceMetrics = ReturnType<typeof createInferenceMetrics>;
