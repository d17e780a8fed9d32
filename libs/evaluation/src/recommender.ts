import type { EvalCase, TrainData } from './split';

export type FitOn = 'train' | 'train+valid';

/** Progress report of a model's fit (all fields optional). */
export interface FitProgress {
  /** Fraction done in [0, 1], if known. */
  fraction?: number;
  epoch?: number;
  loss?: number;
  /** Free text, e.g. 'epoch 3/20 loss 7.21 val NDCG@10 0.041'. */
  message?: string;
}

export interface FitOptions {
  /** Seed for every random choice of the model (init, shuffling, negatives). */
  seed: number;
  /** Wall-clock budget for fit in minutes; the model should stop (and keep its best state) when it is reached. */
  maxTrainMinutes?: number;
  onProgress?: (progress: FitProgress) => void;
}

/** A batch of users to score. */
export interface ScoreBatch {
  /** Internal user indices (rows of the batch). */
  readonly users: Int32Array;
  /**
   * Per row, the user's item history in time order (dense item indices). For the test ranking
   * this is the training items plus the validation item (SASRec protocol).
   */
  readonly histories: readonly Int32Array[];
}

/**
 * An offline-evaluable model. Scores are "higher is better"; only the order matters. The
 * harness removes history items itself (full protocol) or picks candidates (sampled protocols),
 * so a model scores every item of the catalog.
 */
export interface Recommender {
  readonly name: string;
  /**
   * What the harness fits the model on before the test ranking, unless the caller overrides it
   * (CLI --fit-on). 'train' (default): training items only, and `fit` receives the validation
   * cases (for early stopping). 'train+valid': each evaluated user's training items plus the
   * validation item (the test-time history), and `fit` receives no validation cases. The test
   * item is never in the training data either way.
   */
  readonly defaultFitOn?: FitOn;
  /** Rows per scoreUsers call the model prefers (default 256). */
  readonly preferredBatchSize?: number;
  /**
   * Fits the model. `validation` (history = training items, target = validation item) may be
   * used for early stopping / model selection; it is never the test target.
   */
  fit(train: TrainData, validation: readonly EvalCase[] | undefined, opts: FitOptions): Promise<void>;
  /**
   * Writes scores for every item (length train.numItems) of each batch row into `out[row]`.
   * The rows are zero-filled before each call and owned by the harness (do not keep them).
   * NaN is not a valid score.
   */
  scoreUsers(batch: ScoreBatch, out: Float32Array[]): void | Promise<void>;
  /** Releases resources (tensors, workers) after evaluation. */
  dispose?(): void | Promise<void>;
}
