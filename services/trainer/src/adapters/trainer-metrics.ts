import { Counter, Gauge, Histogram, type Registry } from '@reco/platform';

export function createTrainerMetrics(registry: Registry) {
  return {
    runs: new Counter({
      name: 'trainer_runs_total',
      help: 'training runs by outcome (published, refused, skipped, interrupted, failed)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    runSeconds: new Histogram({
      name: 'trainer_run_seconds',
      help: 'wall time of a training run',
      buckets: [10, 30, 60, 120, 300, 600, 1200, 1800, 3600],
      registers: [registry],
    }),
    epoch: new Gauge({ name: 'trainer_epoch', help: 'epoch of the run in progress', registers: [registry] }),
    loss: new Gauge({ name: 'trainer_loss', help: 'training loss of the last epoch', registers: [registry] }),
    valNdcg: new Gauge({
      name: 'trainer_validation_ndcg10',
      help: 'validation NDCG@10 of the last epoch',
      registers: [registry],
    }),
    checkpoints: new Counter({
      name: 'trainer_checkpoints_total',
      help: 'training checkpoints written (one per epoch while checkpointing is on)',
      registers: [registry],
    }),
    resumes: new Counter({
      name: 'trainer_resumes_total',
      help: 'training runs resumed from the checkpoint of an interrupted run',
      registers: [registry],
    }),
    holdoutNdcg: new Gauge({
      name: 'trainer_holdout_ndcg10',
      help: 'holdout NDCG@10 of the last candidate and of the live version',
      labelNames: ['model'],
      registers: [registry],
    }),
  };
}

export type TrainerMetrics = ReturnType<typeof createTrainerMetrics>;
