import { z } from 'zod';
import { commonSettings, loadConfig, setting } from '@reco/platform';

const fraction = () => z.coerce.number().min(0).max(0.9);

export const trainerSettings = z.object({
  ...commonSettings,
  MODEL_STORE_DIR: z.string().default('.state/models').describe('directory of model versions'),
  TRAINER_MODEL_NAME: z.string().default('sasrec').describe('model family; key of model-published messages'),
  TRAINER_INTERVAL_MINUTES: setting
    .int(0, 7 * 24 * 60)
    .default(60)
    .describe('minutes between runs; 0 = on demand'),
  TRAINER_RUN_ON_START: setting.bool().default(true).describe('train once right after start-up'),
  TRAINER_MAX_TRAIN_MINUTES: z.coerce
    .number()
    .positive()
    .max(24 * 60)
    .default(30)
    .describe('training time budget'),
  TRAINER_EPOCHS: setting.int(0, 10_000).default(200).describe('max epochs (0 trains nothing: for tests)'),
  TRAINER_PATIENCE: setting.int(0, 1000).default(5),
  TRAINER_DIM: setting.int(8, 1024).default(64),
  TRAINER_BLOCKS: setting.int(1, 12).default(2),
  TRAINER_HEADS: setting.int(1, 16).default(2),
  TRAINER_MAX_LEN: setting.int(2, 1000).default(50),
  TRAINER_DROPOUT: fraction().default(0.3),
  TRAINER_LEARNING_RATE: z.coerce.number().positive().max(1).default(0.002),
  TRAINER_BATCH_SIZE: setting.int(1, 8192).default(128),
  TRAINER_NEGATIVES: setting
    .int(0, 100_000)
    .default(0)
    .describe('sampled-softmax negatives; 0 = full softmax'),
  TRAINER_SEED: setting.int(0, 2 ** 31).default(42),
  TRAINER_WARM_START: setting
    .bool()
    .default(true)
    .describe("start from the live version's weights (new items appended to the embedding table)"),
  TRAINER_TRANSITIONS: setting
    .bool()
    .default(true)
    .describe('serve the transformer blended with item-to-item transitions (false: transformer alone)'),
  TRAINER_CHECKPOINTS: setting
    .bool()
    .default(true)
    .describe(
      'checkpoint every epoch under MODEL_STORE_DIR/checkpoints/<run>/; an interrupted run resumes from it',
    ),
  TRAINER_HOLDOUT_FRACTION: z.coerce
    .number()
    .min(0.01)
    .max(0.5)
    .default(0.1)
    .describe('latest share of events held out for the gate'),
  TRAINER_GATE_TOLERANCE: fraction()
    .default(0.02)
    .describe('relative NDCG@10 loss tolerated against the live version'),
  TRAINER_MIN_HOLDOUT_CASES: setting
    .int(1, 1_000_000)
    .default(20)
    .describe('fewer holdout cases: no publication'),
  HTTP_HOST: z.string().default('0.0.0.0'),
});

export type TrainerConfig = z.infer<typeof trainerSettings>;

export const loadTrainerConfig = (env: Record<string, string | undefined> = process.env) =>
  loadConfig('trainer', trainerSettings, env);
