import { Counter, Gauge, Histogram, type Registry } from '@reco/platform';

/** What ingest reports on /metrics. */
export function createIngestMetrics(registry: Registry) {
  return {
    eventsIn: new Counter({
      name: 'ingest_messages_in_total',
      help: 'raw messages consumed',
      labelNames: ['topic'],
      registers: [registry],
    }),
    eventsOut: new Counter({
      name: 'ingest_messages_out_total',
      help: 'clean messages published',
      labelNames: ['topic'],
      registers: [registry],
    }),
    deadLettered: new Counter({
      name: 'ingest_dead_lettered_total',
      help: 'messages sent to the dead-letter topic',
      labelNames: ['reason'],
      registers: [registry],
    }),
    duplicates: new Counter({
      name: 'ingest_duplicates_total',
      help: 'events dropped as repeats inside the dedup window',
      registers: [registry],
    }),
    replays: new Counter({
      name: 'ingest_replays_total',
      help: 'events published again after a crash or failed transaction (first attempt never committed)',
      registers: [registry],
    }),
    lag: new Gauge({
      name: 'ingest_consumer_lag',
      help: 'messages behind the high watermark after the last batch',
      labelNames: ['topic', 'partition'],
      registers: [registry],
    }),
    batchSeconds: new Histogram({
      name: 'ingest_batch_seconds',
      help: 'time to process and transactionally publish one batch',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
  };
}

export type IngestMetrics = ReturnType<typeof createIngestMetrics>;
