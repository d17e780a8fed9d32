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
import { type IngestConfig, validationLimits } from './config';
import { IngestConsumer } from './adapters/ingest-consumer';
import { createIngestMetrics } from './adapters/ingest-metrics';
import { RedisDedupWindow } from './adapters/redis-dedup-window';
import { UserRoutes } from './user-routes';

export const CONFIG = Symbol('CONFIG');
export const REDIS = Symbol('REDIS');

class IngestLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(IngestConsumer) private readonly consumer: IngestConsumer,
    @Inject(RedisDedupWindow) private readonly dedup: RedisDedupWindow,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(HEALTH_CHECKS) private readonly health: HealthChecks,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap() {
    await this.redis.connect();
    const warning = await this.dedup.serverWarning();
    if (warning) this.logger.warn({ setting: 'lazyfree-lazy-expire' }, warning);
    this.health.register('redis', async () => (await this.redis.ping()) === 'PONG');
    this.health.register('kafka-consumer', () => this.consumer.isRunning);
    await this.consumer.start();
  }

  async onApplicationShutdown() {
    this.logger.info('ingest shutting down: draining the batch in flight');
    await this.consumer.stop();
    await this.redis.quit().catch(() => undefined);
    this.logger.info('ingest stopped');
  }
}

@Module({})
export class IngestModule {
  static forConfig(config: IngestConfig, ops: ServiceOps) {
    const { logger } = ops;
    const registry = ops.registry;
    return {
      module: IngestModule,
      controllers: [OpsController],
      providers: [
        { provide: CONFIG, useValue: config },
        ...ops.providers,
        { provide: REDIS, useFactory: () => createRedis(config.REDIS_URL, logger) },
        {
          provide: RedisDedupWindow,
          inject: [REDIS],
          useFactory: (redis: Redis) =>
            new RedisDedupWindow(
              redis,
              `${config.REDIS_KEY_PREFIX}dedup:`,
              config.INGEST_DEDUP_WINDOW_SECONDS * 1000,
            ),
        },
        {
          provide: IngestConsumer,
          inject: [RedisDedupWindow],
          useFactory: (dedup: RedisDedupWindow) =>
            new IngestConsumer(
              createKafka('reco-ingest', config.KAFKA_BROKERS, logger),
              config,
              {
                limits: validationLimits(config),
                users: new UserRoutes(Buffer.from(config.RECO_PSEUDONYMIZATION_KEY, 'utf8')),
                dedup,
                now: Date.now,
              },
              createIngestMetrics(registry),
              logger,
              (err) => {
                logger.fatal(
                  { err: String(err) },
                  'ingest cannot go on (a transaction commit of unknown outcome, or a consumer that will not restart): exiting so that a restart resumes from stable offsets',
                );
                process.exit(1);
              },
            ),
        },
        IngestLifecycle,
      ],
      exports: [LOGGER],
    };
  }
}
