import type { Kafka, Producer } from 'kafkajs';
import { ensureTopics, type Logger } from '@reco/platform';
import type { TrainerConfig } from './config';
import type { ModelStore } from './adapters/model-store';
import type { TrainerMetrics } from './adapters/trainer-metrics';
import type { CheckpointStore } from './adapters/checkpoint-store';
import { runTraining, type RunReport } from './training-run';

/**
 * Runs training on a schedule and on demand, one run at a time. A run can be interrupted
 * (`cancel`, and `stop` at shutdown); with checkpoints the next run resumes it.
 */
export class TrainingScheduler {
  private producer?: Producer;
  private timer?: NodeJS.Timeout;
  private current?: Promise<RunReport | undefined>;
  private abort?: AbortController;
  private stopping = false;
  readonly history: (RunReport & { finishedAt: string })[] = [];

  constructor(
    private readonly kafka: Kafka,
    private readonly store: ModelStore,
    private readonly config: TrainerConfig,
    private readonly metrics: TrainerMetrics,
    private readonly logger: Logger,
    /** Absent: checkpoints are off. */
    private readonly checkpoints?: CheckpointStore,
  ) {}

  get running(): boolean {
    return this.current !== undefined;
  }

  async start(): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      await ensureTopics(admin, ['eventsClean', 'catalog', 'modelPublished', 'outcomes'], {
        prefix: this.config.RECO_TOPIC_PREFIX,
        partitions: this.config.RECO_TOPIC_PARTITIONS,
        replicationFactor: this.config.KAFKA_REPLICATION_FACTOR,
      });
    } finally {
      await admin.disconnect();
    }
    this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await this.producer.connect();
    if (this.config.TRAINER_INTERVAL_MINUTES > 0) {
      this.timer = setInterval(
        () => void this.trigger('schedule'),
        this.config.TRAINER_INTERVAL_MINUTES * 60_000,
      );
    }
    this.logger.info({ intervalMinutes: this.config.TRAINER_INTERVAL_MINUTES }, 'trainer ready');
    if (this.config.TRAINER_RUN_ON_START) void this.trigger('start-up');
  }

  /** Starts a run unless one is in progress; resolves when it ends. */
  trigger(cause: string): { started: boolean; done: Promise<RunReport | undefined> } {
    if (this.stopping) return { started: false, done: Promise.resolve(undefined) };
    if (this.current) return { started: false, done: this.current };
    this.logger.info({ cause }, 'training run started');
    const end = this.metrics.runSeconds.startTimer();
    const abort = new AbortController();
    this.abort = abort;
    this.current = runTraining({
      kafka: this.kafka,
      producer: this.producer!,
      store: this.store,
      config: this.config,
      logger: this.logger,
      checkpoints: this.checkpoints,
      signal: abort.signal,
      onEpoch: (epoch, loss, val) => {
        this.metrics.epoch.set(epoch);
        this.metrics.loss.set(loss);
        if (val !== undefined) this.metrics.valNdcg.set(val);
      },
      onCheckpoint: () => this.metrics.checkpoints.inc(),
      onResume: () => this.metrics.resumes.inc(),
    })
      .then((report) => {
        this.metrics.runs.inc({ outcome: report.outcome });
        if (report.candidate) this.metrics.holdoutNdcg.set({ model: 'candidate' }, report.candidate.ndcg10);
        if (report.live) this.metrics.holdoutNdcg.set({ model: 'live' }, report.live.ndcg10);
        this.history.push({ ...report, finishedAt: new Date().toISOString() });
        if (this.history.length > 50) this.history.shift();
        this.logger.info(
          { report },
          report.outcome === 'interrupted' ? 'training run interrupted' : 'training run finished',
        );
        return report;
      })
      .catch((err: unknown) => {
        this.metrics.runs.inc({ outcome: 'failed' });
        this.logger.error({ err: err instanceof Error ? err.stack : String(err) }, 'training run failed');
        return undefined;
      })
      .finally(() => {
        end();
        this.current = undefined;
        this.abort = undefined;
      });
    return { started: true, done: this.current };
  }

  /**
   * Interrupts the run in progress (within about a training step) and waits for it to stop.
   * Its checkpoint stays, so the next run resumes it, unless `discardCheckpoint`.
   */
  async cancel(options: { discardCheckpoint?: boolean } = {}): Promise<{ cancelled: boolean }> {
    const run = this.current;
    if (run) {
      this.logger.info(
        { discardCheckpoint: options.discardCheckpoint ?? false },
        'training run cancel requested',
      );
      this.abort?.abort();
      await run;
    }
    if (options.discardCheckpoint) await this.checkpoints?.prune();
    return { cancelled: run !== undefined };
  }

  /** At shutdown: no new runs; the current one is interrupted, keeping its last checkpoint. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.abort?.abort();
    await this.current;
    await this.producer?.disconnect();
  }
}
