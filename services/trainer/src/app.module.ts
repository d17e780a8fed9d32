import {
  Controller,
  Get,
  HttpCode,
  Inject,
  Module,
  Post,
  Query,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { HEALTH_CHECKS, HealthChecks, OpsController, createKafka, type ServiceOps } from '@reco/platform';
import type { TrainerConfig } from './config';
import { CheckpointStore } from './adapters/checkpoint-store';
import { DirectoryModelStore } from './adapters/model-store';
import { createTrainerMetrics } from './adapters/trainer-metrics';
import { TrainingScheduler } from './scheduler';

@Controller()
class TrainingController {
  constructor(@Inject(TrainingScheduler) private readonly scheduler: TrainingScheduler) {}

  /** Starts a run now (unless one is running); 202 either way, with what happened. */
  @Post('train')
  @HttpCode(202)
  train() {
    const { started } = this.scheduler.trigger('on demand');
    return { started, running: true };
  }

  /**
   * Interrupts the run in progress (promptly, between training steps) and answers once it has
   * stopped. The run's checkpoint stays, so the next run resumes it; `?discardCheckpoint=true`
   * deletes it, so the next run starts over.
   */
  @Post('train/cancel')
  @HttpCode(200)
  async cancel(@Query('discardCheckpoint') discard?: string) {
    return this.scheduler.cancel({ discardCheckpoint: discard === 'true' || discard === '1' });
  }

  @Get('runs')
  runs() {
    return { running: this.scheduler.running, runs: this.scheduler.history };
  }
}

class TrainerLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(TrainingScheduler) private readonly scheduler: TrainingScheduler,
    @Inject(HEALTH_CHECKS) private readonly health: HealthChecks,
  ) {}
  async onApplicationBootstrap() {
    this.health.register('scheduler', () => true);
    await this.scheduler.start();
  }
  async onApplicationShutdown() {
    await this.scheduler.stop();
  }
}

@Module({})
export class TrainerModule {
  static forConfig(config: TrainerConfig, ops: ServiceOps) {
    const { logger } = ops;
    const registry = ops.registry;
    return {
      module: TrainerModule,
      controllers: [OpsController, TrainingController],
      providers: [
        ...ops.providers,
        {
          provide: TrainingScheduler,
          useFactory: () => {
            const store = new DirectoryModelStore(config.MODEL_STORE_DIR);
            return new TrainingScheduler(
              createKafka('reco-trainer', config.KAFKA_BROKERS, logger),
              store,
              config,
              createTrainerMetrics(registry),
              logger,
              config.TRAINER_CHECKPOINTS ? new CheckpointStore(store.checkpointsRoot) : undefined,
            );
          },
        },
        TrainerLifecycle,
      ],
    };
  }
}
