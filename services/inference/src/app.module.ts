import { Inject, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Producer } from 'kafkajs';
import { topicNames } from '@reco/contracts';
import {
  ConsumerState,
  HEALTH_CHECKS,
  HealthChecks,
  OpsController,
  createKafka,
  ensureTopics,
  type Logger,
  LOGGER,
  type ServiceOps,
} from '@reco/platform';
import { ModelWatcher } from '@reco/realtime';
import { experimentFromSettings } from '@reco/experiments';
import {
  annOptions,
  type InferenceConfig,
  pinnedVersions,
  recommenderSettings,
  requestLimits,
} from './config';
import { Catalog } from './domain/catalog';
import { CatalogConsumer } from './adapters/catalog-consumer';
import { ImpressionPublisher } from './adapters/impressions';
import { createInferenceMetrics, type InferenceMetrics } from './adapters/inference-metrics';
import { ModelRegistry } from './adapters/model-registry';
import { PopularityCache } from './adapters/popularity-cache';
import { LocalLexicalSearch, ThreadLexicalSearch, type LexicalSearch } from './adapters/lexical-search';
import { UserReader } from './adapters/user-reader';
import { GrpcServer } from './grpc/server';
import { Recommender } from './recommender';

/** Everything inference runs, wired from the validated config. */
export class InferenceRuntime {
  readonly catalog = new Catalog();
  readonly search: LexicalSearch;
  readonly registry: ModelRegistry;
  readonly users: UserReader;
  readonly popularity: PopularityCache;
  readonly recommender: Recommender;
  readonly grpc: GrpcServer;
  private readonly catalogConsumer: CatalogConsumer;
  private readonly watcher: ModelWatcher;
  /** Whether the catalog's and the model-published topic's consumers are consuming. */
  readonly catalogFeed: ConsumerState;
  readonly modelFeed: ConsumerState;
  private readonly producer: Producer;
  private readonly impressions: ImpressionPublisher;
  private readonly kafka;

  constructor(
    readonly config: InferenceConfig,
    readonly metrics: InferenceMetrics,
    readonly logger: Logger,
  ) {
    this.kafka = createKafka('reco-inference', config.KAFKA_BROKERS, logger);
    this.catalogFeed = new ConsumerState(logger);
    this.modelFeed = new ConsumerState(logger);
    this.search = config.INFERENCE_SEARCH_THREAD ? new ThreadLexicalSearch() : new LocalLexicalSearch();
    const topics = topicNames(config.RECO_TOPIC_PREFIX);
    const pinned = pinnedVersions(experimentFromSettings(config));
    this.registry = new ModelRegistry(
      config.INFERENCE_KEEP_VERSIONS,
      { ...annOptions(config), onBatch: (n) => metrics.annBatchSize.observe(n) },
      () => this.catalog.all(),
      logger,
      (v) => {
        metrics.modelVersion.reset();
        metrics.modelVersion.set({ version: v.version }, 1);
        // one series per loaded version (each has its own index)
        metrics.annEfSearch.reset();
        metrics.annCalibratedRecall.reset();
        for (const loaded of this.registry.loaded) {
          metrics.annEfSearch.set({ version: loaded.version }, loaded.ann.efSearch);
          const recall = loaded.ann.calibration?.recall;
          if (recall !== undefined) metrics.annCalibratedRecall.set({ version: loaded.version }, recall);
        }
      },
      pinned,
    );
    this.users = new UserReader(
      config.REDIS_URL,
      config.REDIS_KEY_PREFIX,
      config.REDIS_TIMEOUT_MS,
      logger,
      (n) => metrics.userReadBatchSize.observe(n),
    );
    this.popularity = new PopularityCache(this.users.redis, config.REDIS_KEY_PREFIX, 1000, logger);
    this.producer = this.kafka.producer({ allowAutoTopicCreation: false });
    this.impressions = new ImpressionPublisher(
      this.producer,
      topics.impressions,
      config.INFERENCE_IMPRESSION_QUEUE,
      metrics,
      logger,
    );
    this.catalogConsumer = new CatalogConsumer(
      this.kafka,
      topics.catalog,
      config.INFERENCE_GROUP_ID,
      this.catalog,
      (item, description) => {
        const { itemId, title, brand, categoryPath } = item;
        this.search.upsert({ itemId, title, description, brand, categoryPath });
        this.registry.addCatalogItem(item);
        metrics.catalogItems.set(this.catalog.size);
      },
      (id) => this.search.remove(id),
      this.catalogFeed.watch,
    );
    this.watcher = new ModelWatcher(
      this.kafka,
      topics.modelPublished,
      `${config.INFERENCE_GROUP_ID}-models`,
      async (m) => {
        await this.registry.load(m);
      },
      (err, m) =>
        logger.error({ err: String(err), version: m.modelVersion, uri: m.artifactUri }, 'model load failed'),
      (m) => pinned.has(m.modelVersion),
      this.modelFeed.watch,
    );
    this.recommender = new Recommender({
      catalog: this.catalog,
      registry: this.registry,
      users: this.users,
      popularity: this.popularity,
      search: this.search,
      impressions: this.impressions,
      metrics,
      limits: requestLimits(config),
      settings: recommenderSettings(config),
    });
    this.grpc = new GrpcServer(this.recommender, metrics, logger, config.INFERENCE_PROTO_DIR);
  }

  async start(): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      await ensureTopics(admin, ['catalog', 'modelPublished', 'impressions'], {
        prefix: this.config.RECO_TOPIC_PREFIX,
        partitions: this.config.RECO_TOPIC_PARTITIONS,
        replicationFactor: this.config.KAFKA_REPLICATION_FACTOR,
      });
    } finally {
      await admin.disconnect();
    }
    await this.users.connect();
    await this.producer.connect();
    this.impressions.start(this.config.INFERENCE_IMPRESSION_FLUSH_MS);
    this.popularity.start(this.config.INFERENCE_POPULARITY_REFRESH_MS);
    await this.catalogConsumer.start();
    await this.watcher.start();
    const port = await this.grpc.listen(this.config.GRPC_HOST, this.config.GRPC_PORT);
    this.grpc.setServing(true);
    this.logger.info({ port }, 'grpc listening');
  }

  async stop(): Promise<void> {
    await this.grpc.stop();
    this.popularity.stop();
    await Promise.all([this.watcher.stop(), this.catalogConsumer.stop()]);
    await this.impressions.stop();
    await this.producer.disconnect();
    await this.users.close();
    await this.search.close();
  }
}

class InferenceLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(InferenceRuntime) private readonly runtime: InferenceRuntime,
    @Inject(HEALTH_CHECKS) private readonly health: HealthChecks,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap() {
    // Redis is not a liveness condition: without it inference answers non-personalized.
    this.health.register('grpc', () => true);
    // A replica whose catalog or model feed stopped serves stale items or an old model. It goes
    // on serving (a restart would likely meet the same fault), and /healthz says so.
    this.health.register('catalog-consumer', () => this.runtime.catalogFeed.isConsuming);
    this.health.register('model-consumer', () => this.runtime.modelFeed.isConsuming);
    await this.runtime.start();
  }

  async onApplicationShutdown() {
    this.logger.info('inference shutting down: finishing calls in flight');
    await this.runtime.stop();
    this.logger.info('inference stopped');
  }
}

@Module({})
export class InferenceModule {
  static forConfig(config: InferenceConfig, ops: ServiceOps) {
    const { logger } = ops;
    const registry = ops.registry;
    const metrics = createInferenceMetrics(registry);
    return {
      module: InferenceModule,
      controllers: [OpsController],
      providers: [
        ...ops.providers,
        { provide: InferenceRuntime, useFactory: () => new InferenceRuntime(config, metrics, logger) },
        InferenceLifecycle,
      ],
      exports: [LOGGER],
    };
  }
}
