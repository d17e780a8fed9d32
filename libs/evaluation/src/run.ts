import type { Dataset } from './dataset';
import { evaluateModel, type EvaluateOptions, type Protocol } from './evaluate';
import type { FitOn, FitProgress, Recommender } from './recommender';
import type { TieMode } from './metrics';
import { leaveOneOut, trainPlusValidation } from './split';

/** The CLI's `--json` object (one per run). */
export interface EvaluationReport {
  model: string;
  dataset: string;
  protocol: Protocol;
  users: number;
  items: number;
  'HR@5': number;
  'HR@10': number;
  'HR@20': number;
  'NDCG@5': number;
  'NDCG@10': number;
  'NDCG@20': number;
  MRR: number;
  'coverage@10': number;
  train_seconds: number;
  eval_seconds: number;
  seed: number;
}

export interface RunOptions {
  protocol: Protocol;
  seed: number;
  maxTrainMinutes?: number;
  /**
   * What the model is fit on before the ranking (default: model.defaultFitOn ?? 'train'):
   * 'train' (SASRec protocol: validation cases go to fit for early stopping; the validation item
   * is appended to the history at test time) or 'train+valid' (training items plus each
   * evaluated user's validation item). Evaluating the validation target (`target: 'validation'`)
   * always fits on 'train'.
   */
  fitOn?: FitOn;
  tieMode?: TieMode;
  target?: EvaluateOptions['target'];
  batchSize?: number;
  onFitProgress?: (p: FitProgress) => void;
  onEvalProgress?: (done: number, total: number) => void;
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits));

/** The training data a run fits `model` on. */
export function resolveFitOn(model: Recommender, opts: Pick<RunOptions, 'fitOn' | 'target'>): FitOn {
  if (opts.target === 'validation') return 'train';
  return opts.fitOn ?? model.defaultFitOn ?? 'train';
}

/** Splits, fits and evaluates one model on one dataset. */
export async function runEvaluation(
  ds: Dataset,
  model: Recommender,
  opts: RunOptions,
): Promise<EvaluationReport> {
  const split = leaveOneOut(ds);
  const fitOn = resolveFitOn(model, opts);
  const trainData = fitOn === 'train+valid' ? trainPlusValidation(split) : split.train;
  const t0 = process.hrtime.bigint();
  await model.fit(trainData, fitOn === 'train+valid' ? undefined : split.validation, {
    seed: opts.seed,
    maxTrainMinutes: opts.maxTrainMinutes,
    onProgress: opts.onFitProgress,
  });
  const trainSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const res = await evaluateModel(model, split, {
    protocol: opts.protocol,
    seed: opts.seed,
    target: opts.target,
    batchSize: opts.batchSize,
    tieMode: opts.tieMode,
    onProgress: opts.onEvalProgress,
  });
  const m = res.metrics;
  return {
    model: model.name,
    dataset: ds.name,
    protocol: opts.protocol,
    users: res.users,
    items: res.items,
    'HR@5': round(m['HR@5'], 6),
    'HR@10': round(m['HR@10'], 6),
    'HR@20': round(m['HR@20'], 6),
    'NDCG@5': round(m['NDCG@5'], 6),
    'NDCG@10': round(m['NDCG@10'], 6),
    'NDCG@20': round(m['NDCG@20'], 6),
    MRR: round(m.MRR, 6),
    'coverage@10': round(m['coverage@10'], 6),
    train_seconds: round(trainSeconds, 3),
    eval_seconds: round(res.evalSeconds, 3),
    seed: opts.seed,
  };
}
