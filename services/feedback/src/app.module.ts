import { Inject, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import {
  HEALTH_CHECKS,
  HealthChecks,
  OpsController,
  createKafka,
  createRedis,
  type Logger,
  type Redis,
  LOGGER,
  type ServiceOps,
} from '@reco/platform';
import type { FeedbackConfig } from './config';
import { FeedbackConsumer } from './adapters/feedback-consumer';
import { createFeedbackMetrics } from './adapters/feedback-metrics';
import { OpsScraper } from './adapters/ops-scraper';
import { ReferenceConsumer } from './adapters/reference-consumer';
import { FeedbackStore } from './adapters/redis-store';
import { DASHBOARD_REFRESH_MS, DashboardController } from './dashboard.controller';
import { FeedbackQueries } from './queries';

export const REDIS = Symbol('REDIS');

class FeedbackLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(FeedbackConsumer) private readonly consumer: FeedbackConsumer,
    @Inject(ReferenceConsumer) private readonly reference: ReferenceConsumer,
    @Inject(OpsScraper) private readonly scraper: OpsScraper,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(HEALTH_CHECKS) private readonly health: HealthChecks,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap() {
    await this.redis.connect();
    this.health.register('redis', async () => (await this.redis.ping()) === 'PONG');
    this.health.register('kafka-consumer', () => this.consumer.isRunning);
    await this.consumer.start();
    await this.reference.start();
    this.scraper.start();
  }

  async onApplicationShutdown() {
    this.logger.info('feedback shutting down: finishing the step in flight');
    this.scraper.stop();
    await this.reference.stop();
    await this.consumer.stop();
    await this.redis.quit().catch(() => undefined);
    this.logger.info('feedback stopped');
  }
}

@Module({})
export class FeedbackModule {
  static forConfig(config: FeedbackConfig, ops: ServiceOps) {
    const { logger } = ops;
    const registry = ops.registry;
    const redis = createRedis(config.REDIS_URL, logger);
    const store = new FeedbackStore(
      redis,
      config.REDIS_KEY_PREFIX,
      config.FEEDBACK_BUCKET_SECONDS * 1000,
      config.FEEDBACK_METRICS_RETENTION_HOURS * 3600_000,
    );
    const reference = new ReferenceConsumer(
      createKafka('reco-feedback-reference', config.KAFKA_BROKERS, logger),
      config.RECO_TOPIC_PREFIX,
      store,
      logger,
    );
    const scraper = new OpsScraper(
      config.FEEDBACK_SCRAPE_TARGETS,
      config.FEEDBACK_SCRAPE_INTERVAL_SECONDS * 1000,
      config.FEEDBACK_LATENCY_HISTOGRAM,
      config.FEEDBACK_THROUGHPUT_COUNTERS,
      logger,
      { service: 'feedback', metrics: () => registry.metrics() },
    );
    return {
      module: FeedbackModule,
      controllers: [OpsController, DashboardController],
      providers: [
        ...ops.providers,
        { provide: REDIS, useValue: redis },
        { provide: DASHBOARD_REFRESH_MS, useValue: config.FEEDBACK_DASHBOARD_REFRESH_SECONDS * 1000 },
        { provide: ReferenceConsumer, useValue: reference },
        { provide: OpsScraper, useValue: scraper },
        {
          provide: FeedbackConsumer,
          useValue: new FeedbackConsumer(
            createKafka('reco-feedback', config.KAFKA_BROKERS, logger),
            config,
            store,
            createFeedbackMetrics(registry),
            logger,
          ),
        },
        { provide: FeedbackQueries, useValue: new FeedbackQueries(config, store, reference, scraper) },
        FeedbackLifecycle,
      ],
    };
  }
}
