import type { Dataset } from './dataset';

/** One user to rank: `history` (time order) is what the model may see, `target` the held-out item. */
export interface EvalCase {
  /** Internal user index. */
  readonly user: number;
  readonly history: Int32Array;
  readonly target: number;
}

/** What a model is fit on. */
export interface TrainData {
  readonly numUsers: number;
  readonly numItems: number;
  /** Per user (internal index), training items in time order (may be empty for no user here, but models should not assume non-empty). */
  readonly sequences: readonly Int32Array[];
  /** External ids, for models that want them (e.g. content features). */
  readonly userIds: readonly string[];
  readonly itemIds: readonly string[];
}

/**
 * Leave-one-out split (SASRec / ICLRec protocol). Per user with n >= 3 interactions:
 * train = items[0..n-3], validation target = items[n-2], test target = items[n-1].
 * Users with n < 3 keep everything for training and are not evaluated.
 */
export interface LeaveOneOutSplit {
  readonly train: TrainData;
  /** history = training items, target = second-to-last item. */
  readonly validation: readonly EvalCase[];
  /** history = training items + validation item, target = last item. */
  readonly test: readonly EvalCase[];
  /** Per user, all interactions (used by sampled protocols to find never-interacted items). */
  readonly allSequences: readonly Int32Array[];
}

export const MIN_EVAL_INTERACTIONS = 3;

export function leaveOneOut(ds: Dataset): LeaveOneOutSplit {
  const train: Int32Array[] = [];
  const validation: EvalCase[] = [];
  const test: EvalCase[] = [];
  ds.sequences.forEach((seq, user) => {
    const n = seq.length;
    if (n < MIN_EVAL_INTERACTIONS) {
      train.push(seq.slice());
      return;
    }
    const trainPart = seq.slice(0, n - 2);
    train.push(trainPart);
    validation.push({ user, history: trainPart, target: seq[n - 2] });
    test.push({ user, history: seq.slice(0, n - 1), target: seq[n - 1] });
  });
  return {
    train: {
      numUsers: ds.sequences.length,
      numItems: ds.itemIds.length,
      sequences: train,
      userIds: ds.userIds,
      itemIds: ds.itemIds,
    },
    validation,
    test,
    allSequences: ds.sequences,
  };
}

/**
 * Training data extended by each evaluated user's validation item (train + valid), for fitting
 * a final model before the test ranking when no early stopping is needed.
 */
export function trainPlusValidation(split: LeaveOneOutSplit): TrainData {
  const sequences = split.train.sequences.slice();
  for (const c of split.test) sequences[c.user] = c.history;
  return { ...split.train, sequences };
}
