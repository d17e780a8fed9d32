import { Inject, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { topicNames } from '@reco/contracts';
import {
  ConsumerState,
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
import { ModelWatcher } from '@reco/realtime';
import { type FeaturesConfig, stateLimits } from './config';
import { CatalogView } from './adapters/catalog-view';
import { FeaturesConsumer } from './adapters/features-consumer';
import { createFeaturesMetrics, type FeaturesMetrics } from './adapters/features-metrics';
import { ModelHolder } from './adapters/model-holder';
import { PopularityStore } from './adapters/popularity-store';
import { Reencoder } from './adapters/reencoder';
import { UserStore } from './adapters/user-store';

export const CONFIG = Symbol('CONFIG');

/** Everything features runs, wired from the validated config. */
export class FeaturesRuntime {
  readonly redis: Redis;
  readonly holder: ModelHolder;
  readonly catalog: CatalogView;
  readonly watcher: ModelWatcher;
  readonly consumer: FeaturesConsumer;
  readonly popularity: PopularityStore;
  readonly reencoder: Reencoder;
  /** Whether the catalog's and the model-published topic's consumers are consuming. */
  readonly catalogFeed: ConsumerState;
  readonly modelFeed: ConsumerState;
  private refreshTimer?: NodeJS.Timeout;
  private reencoding: Promise<unknown> = Promise.resolve();

  constructor(
    readonly config: FeaturesConfig,
    readonly metrics: FeaturesMetrics,
    readonly logger: Logger,
  ) {
    const kafka = createKafka('reco-features', config.KAFKA_BROKERS, logger);
    this.catalogFeed = new ConsumerState(logger);
    this.modelFeed = new ConsumerState(logger);
    const topics = topicNames(config.RECO_TOPIC_PREFIX);
    this.redis = createRedis(config.REDIS_URL, logger);
    const store = new UserStore(
      this.redis,
      config.REDIS_KEY_PREFIX,
      config.FEATURES_USER_TTL_DAYS * 86400_000,
    );
    this.popularity = new PopularityStore(this.redis, config.REDIS_KEY_PREFIX, config.FEATURES_TRENDING_SIZE);
    this.holder = new ModelHolder(metrics, logger, {
      maxBatch: config.FEATURES_ENCODE_MAX_BATCH,
      maxWaitMs: config.FEATURES_ENCODE_MAX_WAIT_MS,
    });
    this.catalog = new CatalogView(
      kafka,
      topics.catalog,
      config.FEATURES_GROUP_ID,
      metrics,
      this.catalogFeed.watch,
    );
    this.reencoder = new Reencoder(
      this.redis,
      config.REDIS_KEY_PREFIX,
      store,
      this.holder,
      config.FEATURES_REENCODE_RATE,
      metrics,
      logger,
    );
    this.watcher = new ModelWatcher(
      kafka,
      topics.modelPublished,
      `${config.FEATURES_GROUP_ID}-models`,
      async (m) => {
        if (await this.holder.load(m)) {
          this.reencoding = this.reencoder
            .run()
            .catch((err) => logger.error({ err: String(err) }, 're-encoding failed'));
        }
      },
      (err, m) =>
        logger.error({ err: String(err), version: m.modelVersion, uri: m.artifactUri }, 'model load failed'),
      undefined,
      this.modelFeed.watch,
    );
    this.consumer = new FeaturesConsumer(
      kafka,
      config,
      {
        limits: stateLimits(config),
        store,
        popularity: this.popularity,
        holder: this.holder,
        catalog: this.catalog,
      },
      metrics,
      logger,
    );
  }

  async start(): Promise<void> {
    await this.redis.connect();
    await this.consumer.ensureTopics();
    const caughtUp = await this.catalog.start(this.config.FEATURES_CATALOG_CATCH_UP_MS);
    if (!caughtUp)
      this.logger.warn(
        { timeoutMs: this.config.FEATURES_CATALOG_CATCH_UP_MS },
        'catalog not fully read before consuming events; early category affinities may miss items',
      );
    await this.watcher.start();
    await this.consumer.start();
    this.refreshTimer = setInterval(() => {
      this.popularity
        .refresh(Math.floor(Date.now() / 1000))
        .catch((err) => this.logger.warn({ err: String(err) }, 'popularity refresh failed'));
    }, this.config.FEATURES_POPULARITY_REFRESH_MS);
  }

  async stop(): Promise<void> {
    clearInterval(this.refreshTimer);
    await this.consumer.stop();
    await Promise.all([this.watcher.stop(), this.catalog.stop()]);
    this.holder.generation++; // stops background re-encoding
    await this.reencoding;
    this.holder.dispose();
    await this.redis.quit().catch(() => undefined);
  }
}

class FeaturesLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(FeaturesRuntime) private readonly runtime: FeaturesRuntime,
    @Inject(HEALTH_CHECKS) private readonly health: HealthChecks,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap() {
    this.health.register('redis', async () => (await this.runtime.redis.ping()) === 'PONG');
    this.health.register('kafka-consumer', () => this.runtime.consumer.isRunning);
    // The catalog and model feeds: without them features goes on with the categories and model
    // it has (a restart would likely meet the same fault), and /healthz says so.
    this.health.register('catalog-consumer', () => this.runtime.catalogFeed.isConsuming);
    this.health.register('model-consumer', () => this.runtime.modelFeed.isConsuming);
    await this.runtime.start();
  }

  async onApplicationShutdown() {
    this.logger.info('features shutting down');
    await this.runtime.stop();
    this.logger.info('features stopped');
  }
}

@Module({})
export class FeaturesModule {
  static forConfig(config: FeaturesConfig, ops: ServiceOps) {
    const { logger } = ops;
    const registry = ops.registry;
    const metrics = createFeaturesMetrics(registry);
    return {
      module: FeaturesModule,
      controllers: [OpsController],
      providers: [
        { provide: CONFIG, useValue: config },
        ...ops.providers,
        { provide: FeaturesRuntime, useFactory: () => new FeaturesRuntime(config, metrics, logger) },
        FeaturesLifecycle,
      ],
      exports: [LOGGER],
    };
  }
}
