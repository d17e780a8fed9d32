import type { FitOptions, Recommender, ScoreBatch } from '../recommender';
import type { EvalCase, TrainData } from '../split';

/** Item popularity: number of interactions of each item in the training sequences. */
export function itemCounts(train: TrainData): Float64Array {
  const counts = new Float64Array(train.numItems);
  for (const seq of train.sequences) for (let j = 0; j < seq.length; j++) counts[seq[j]]++;
  return counts;
}

/** Scores every user's candidates by the item's interaction count in the training data. */
export class PopularRecommender implements Recommender {
  readonly name = 'popular';
  /** Counting needs no early stopping: count over the test-time histories (reproduces the README table). */
  readonly defaultFitOn = 'train+valid' as const;
  readonly preferredBatchSize = 512;
  private scores = new Float32Array(0);

  async fit(train: TrainData, _validation?: readonly EvalCase[], _opts?: FitOptions): Promise<void> {
    this.scores = Float32Array.from(itemCounts(train));
  }

  scoreUsers(batch: ScoreBatch, out: Float32Array[]): void {
    for (let r = 0; r < batch.users.length; r++) out[r].set(this.scores);
  }
}
