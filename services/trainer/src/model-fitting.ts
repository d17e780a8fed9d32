import {
  ServedScorer,
  Transitions,
  fullRank,
  ndcgAt,
  selectBlendWeight,
  trainSequenceModel,
  type FitInput,
  type FitSettings,
  type ItemContent,
  type SequenceModel,
} from '@reco/model';
import type { HoldoutCase, TrainingSplit } from './domain/split';
import type { HoldoutMetrics } from './domain/quality-gate';

/** What the transformer trains on, from a split (also what a checkpoint's data fingerprint covers). */
export function fitInputOf(
  split: TrainingSplit,
  content: ReadonlyMap<string, ItemContent> | undefined,
): FitInput {
  return {
    itemIds: split.itemIds,
    sequences: split.sequences,
    weights: split.weights,
    validation: split.validation,
    content,
  };
}

export interface FittedModel {
  model: SequenceModel;
  epochs: number;
  bestValNdcg10: number | null;
  trainSeconds: number;
  /** Set when training continued an interrupted run's checkpoint. */
  resumedFromEpoch?: number;
}

/**
 * Trains the transformer on the split, then fits the `served` blend (transformer + item
 * transitions) on the validation targets, and counts the transitions it serves with on all
 * training-side items, validation targets included.
 */
export async function fitServedModel(
  split: TrainingSplit,
  content: ReadonlyMap<string, ItemContent> | undefined,
  settings: FitSettings,
  options: { transitions: boolean } = { transitions: true },
): Promise<FittedModel> {
  const { model, report } = await trainSequenceModel(fitInputOf(split, content), {
    ...settings,
    reserveSeconds: split.validation.length ? 30 : 0,
  });
  const numItems = split.itemIds.length;
  const fitted: FittedModel = {
    model,
    epochs: report.epochs.length,
    bestValNdcg10: report.bestValNdcg10,
    trainSeconds: report.trainSeconds,
    resumedFromEpoch: report.resumedFromEpoch,
  };
  if (!options.transitions) {
    model.blend = { weight: 0, transform: 'log1p' };
    return fitted;
  }
  let weight = 0;
  if (split.validation.length) {
    weight = selectBlendWeight(model, Transitions.count(split.sequences, numItems), split.validation).weight;
  }
  const full = split.sequences.slice();
  for (const c of split.validation) {
    const s = new Int32Array(c.history.length + 1);
    s.set(c.history);
    s[c.history.length] = c.target;
    full[c.user] = s;
  }
  model.transitions = Transitions.count(full, numItems);
  model.blend = { weight, transform: 'log1p' };
  return fitted;
}

/**
 * NDCG@10 and HR@10 of the served scorer on holdout cases, ranking the whole catalog minus
 * the user's history. Items the model does not know count as misses, so a version that
 * lacks new items is not flattered.
 */
export function evaluateOnHoldout(model: SequenceModel, cases: readonly HoldoutCase[]): HoldoutMetrics {
  const scorer = ServedScorer.fromModel(model);
  const n = model.numItems;
  const mark = new Uint8Array(n);
  let ndcg = 0;
  let hits = 0;
  const batchSize = 512;
  for (let start = 0; start < cases.length; start += batchSize) {
    const batch = cases
      .slice(start, start + batchSize)
      .map((c) => ({
        history: Int32Array.from(c.history.map((id) => model.itemIndex(id) ?? -1).filter((i) => i >= 0)),
        target: model.itemIndex(c.target),
      }))
      .filter((c) => c.history.length > 0 && c.target !== undefined);
    if (batch.length === 0) continue;
    const dots = model.scoreAll(model.encodeUsers(batch.map((c) => c.history)), batch.length);
    batch.forEach((c, r) => {
      const row = dots.subarray(r * n, (r + 1) * n);
      scorer.addToRow(row, c.history);
      const rank = fullRank(row, c.target!, c.history, mark);
      ndcg += ndcgAt(rank, 10);
      if (rank < 10) hits++;
    });
  }
  const total = Math.max(1, cases.length);
  return { ndcg10: ndcg / total, hr10: hits / total, cases: cases.length };
}
