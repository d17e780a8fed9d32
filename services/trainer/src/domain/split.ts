import type { UserHistory } from './histories';

/** A user's known items (oldest first) and the item they went to next. */
export interface HoldoutCase {
  history: string[];
  target: string;
}

export interface TrainingSplit {
  /** Item ids the model will know: every item in the training data, then catalog-only items. */
  itemIds: string[];
  /** Training sequences as item indices (validation targets removed). */
  sequences: Int32Array[];
  /** Per position of `sequences`: 1 + the feedback bonus of that interaction. */
  weights: Float32Array[];
  /** Early stopping and blend selection: each eligible user's last training item. */
  validation: { user: number; history: Int32Array; target: number }[];
  /** What the quality gate compares versions on: the first item after the cutoff. */
  holdout: HoldoutCase[];
  cutoffTime: number;
}

/** The event time below which `1 - holdoutFraction` of all interactions fall. */
export function timeCutoff(histories: Iterable<UserHistory>, holdoutFraction: number): number {
  const times: number[] = [];
  for (const h of histories) times.push(...h.times);
  if (times.length === 0) return 0;
  times.sort((a, b) => a - b);
  const i = Math.min(times.length - 1, Math.floor(times.length * (1 - holdoutFraction)));
  return times[i]!;
}

/**
 * Time-based split. Everything before the cutoff trains; for each user active on both sides,
 * the first item after the cutoff is a holdout case (the gate asks: did the model see it
 * coming?). Inside the training part, each user with at least 3 items gives their last one to
 * validation, as in the offline protocol. `catalogItems` are items known from the catalog
 * (possibly never interacted with) so that they get content embeddings.
 */
export function splitByTime(
  histories: ReadonlyMap<string, UserHistory>,
  holdoutFraction: number,
  catalogItems: Iterable<string> = [],
  bonuses: ReadonlyMap<string, ReadonlyMap<string, number>> = new Map(),
): TrainingSplit {
  const cutoffTime = timeCutoff(histories.values(), holdoutFraction);
  const index = new Map<string, number>();
  const itemIds: string[] = [];
  const idOf = (item: string) => {
    let i = index.get(item);
    if (i === undefined) {
      i = itemIds.length;
      index.set(item, i);
      itemIds.push(item);
    }
    return i;
  };
  const sequences: Int32Array[] = [];
  const weights: Float32Array[] = [];
  const validation: TrainingSplit['validation'] = [];
  const holdout: HoldoutCase[] = [];
  // Users and catalog items in id order: the replay interleaves partitions differently each
  // time, and the same data must give the same split (item indices, sequence order), or an
  // interrupted run's checkpoint would not fit its own data.
  for (const userId of [...histories.keys()].sort()) {
    const h = histories.get(userId)!;
    let n = 0;
    while (n < h.items.length && h.times[n]! < cutoffTime) n++;
    const before = h.items.slice(0, n);
    if (before.length === 0) continue;
    if (n < h.items.length) holdout.push({ history: before, target: h.items[n]! });
    const indices = Int32Array.from(before.map(idOf));
    const userBonus = bonuses.get(userId);
    const w = Float32Array.from(before, (item) => 1 + (userBonus?.get(item) ?? 0));
    const user = sequences.length;
    if (indices.length >= 3) {
      sequences.push(indices.slice(0, -1));
      weights.push(w.slice(0, -1));
      validation.push({ user, history: indices.slice(0, -1), target: indices[indices.length - 1]! });
    } else {
      sequences.push(indices);
      weights.push(w);
    }
  }
  for (const item of [...catalogItems].sort()) idOf(item);
  return { itemIds, sequences, weights, validation, holdout, cutoffTime };
}
