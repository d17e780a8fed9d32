import { Counter, Gauge, Histogram, type Registry } from '@reco/platform';

/** What features reports on /metrics. */
export function createFeaturesMetrics(registry: Registry) {
  const r = [registry];
  return {
    events: new Counter({
      name: 'features_events_total',
      help: 'clean events applied',
      labelNames: ['type'],
      registers: r,
    }),
    eventToVector: new Histogram({
      name: 'features_event_to_write_seconds',
      help: 'event time to the user state (and vector) written in Redis',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: r,
    }),
    batchSeconds: new Histogram({
      name: 'features_batch_seconds',
      help: 'time to process one consumed batch',
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: r,
    }),
    encodeBatchSize: new Histogram({
      name: 'features_encode_batch_size',
      help: 'users per model encode call',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
      registers: r,
    }),
    encodeSeconds: new Histogram({
      name: 'features_encode_seconds',
      help: 'time of one model encode call',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: r,
    }),
    casRetries: new Counter({
      name: 'features_cas_retries_total',
      help: 'user-state writes retried after a concurrent change',
      registers: r,
    }),
    reencoded: new Counter({
      name: 'features_reencoded_users_total',
      help: 'users re-encoded in the background after a new model',
      registers: r,
    }),
    modelLoads: new Counter({
      name: 'features_model_loads_total',
      help: 'model versions loaded',
      labelNames: ['outcome'],
      registers: r,
    }),
    catalogItems: new Gauge({ name: 'features_catalog_items', help: 'catalog items known', registers: r }),
    lag: new Gauge({
      name: 'features_consumer_lag',
      help: 'messages behind the high watermark',
      labelNames: ['partition'],
      registers: r,
    }),
  };
}

export type FeaturesMetrics = ReturnType<typeof createFeaturesMetrics>;
