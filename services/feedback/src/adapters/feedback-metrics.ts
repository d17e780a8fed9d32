import { Counter, Gauge, Histogram, type Registry } from '@reco/platform';

/** What feedback reports on /metrics (the online metrics themselves are in Redis and the JSON API). */
export function createFeedbackMetrics(registry: Registry) {
  return {
    messagesIn: new Counter({
      name: 'feedback_messages_in_total',
      help: 'messages consumed',
      labelNames: ['topic'],
      registers: [registry],
    }),
    impressions: new Counter({
      name: 'feedback_impressions_total',
      help: 'impressions counted (once per request id)',
      labelNames: ['model_version', 'arm'],
      registers: [registry],
    }),
    outcomes: new Counter({
      name: 'feedback_outcomes_total',
      help: 'labeled outcomes (attributed events and skips)',
      labelNames: ['type', 'arm'],
      registers: [registry],
    }),
    unattributed: new Counter({
      name: 'feedback_unattributed_events_total',
      help: 'clicks, add-to-carts and purchases with no impression showing the item inside the window',
      registers: [registry],
    }),
    duplicates: new Counter({
      name: 'feedback_duplicates_total',
      help: 'repeated impressions (request id) and events (event id) dropped',
      labelNames: ['stream'],
      registers: [registry],
    }),
    late: new Counter({
      name: 'feedback_late_total',
      help: 'inputs later than the allowed lateness',
      labelNames: ['stream'],
      registers: [registry],
    }),
    evicted: new Counter({
      name: 'feedback_evicted_impressions_total',
      help: 'impressions dropped before their window closed (per-user cap)',
      registers: [registry],
    }),
    pending: new Gauge({
      name: 'feedback_pending_events',
      help: 'events waiting for the impression watermark',
      registers: [registry],
    }),
    users: new Gauge({
      name: 'feedback_users_in_state',
      help: 'users with open impressions, waiting events or remembered ids',
      registers: [registry],
    }),
    lag: new Gauge({
      name: 'feedback_consumer_lag',
      help: 'messages behind the high watermark (committed offsets)',
      labelNames: ['topic', 'partition'],
      registers: [registry],
    }),
    stepSeconds: new Histogram({
      name: 'feedback_step_seconds',
      help: 'time to attribute a batch and persist state, metrics and outcomes',
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
  };
}

export type FeedbackMetrics = ReturnType<typeof createFeedbackMetrics>;
