import type { Recommender } from './recommender';
import type { EvalCase, LeaveOneOutSplit } from './split';
import { DEFAULT_CUTOFFS, DEFAULT_TIE_MODE, MetricAccumulator, type TieMode } from './metrics';
import { userRng } from './rng';
import { TopK } from './topk';

/**
 * `full`: rank the whole catalog; the items of the user's history (train + validation items for
 * the test ranking) are removed from the ranking (the target itself is always ranked).
 * `sampled100`: rank the target against 100 distinct items drawn uniformly (seeded per user) from
 * the items the user never interacted with (whole sequence, target included).
 */
export type Protocol = 'full' | 'sampled100';
export const PROTOCOLS: readonly Protocol[] = ['full', 'sampled100'];

export interface EvaluateOptions {
  protocol: Protocol;
  /** Seeds the negative draw of sampled protocols (per user: hash of seed and external user id). */
  seed: number;
  /** Which held-out item to rank: 'test' (default; history = train + validation item) or 'validation' (history = train). */
  target?: 'test' | 'validation';
  /** Rows per scoreUsers call (default: model.preferredBatchSize or 256). */
  batchSize?: number;
  ks?: readonly number[];
  /** How the target is placed among items with its exact score (default 'average-floor', see metrics.ts). */
  tieMode?: TieMode;
  /** Cutoff of the coverage metric (default 10). */
  coverageK?: number;
  /** Negatives per user for `sampled100` (default 100; fewer if the user has fewer never-interacted items). */
  numNegatives?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface EvaluationResult {
  /** Evaluated users. */
  users: number;
  /** Catalog size. */
  items: number;
  /** `HR@K`, `NDCG@K`, `MRR`, `coverage@K`. */
  metrics: Record<string, number>;
  evalSeconds: number;
}

/**
 * Draws `count` distinct items uniformly from 0..numItems-1 excluding `exclude` (seeded).
 * If fewer than `count` items are available, all available items are returned (in index order).
 */
export function drawNegatives(
  rand: () => number,
  numItems: number,
  exclude: ArrayLike<number>,
  count: number,
  scratch?: Uint8Array,
): Int32Array {
  const mark = scratch ?? new Uint8Array(numItems);
  let excluded = 0;
  for (let j = 0; j < exclude.length; j++) {
    if (!mark[exclude[j]]) {
      mark[exclude[j]] = 1;
      excluded++;
    }
  }
  const available = numItems - excluded;
  let out: Int32Array;
  if (available <= count) {
    out = new Int32Array(available);
    let p = 0;
    for (let i = 0; i < numItems; i++) if (!mark[i]) out[p++] = i;
  } else {
    out = new Int32Array(count);
    let p = 0;
    while (p < count) {
      const i = Math.floor(rand() * numItems);
      if (mark[i]) continue;
      mark[i] = 2;
      out[p++] = i;
    }
  }
  for (let j = 0; j < exclude.length; j++) mark[exclude[j]] = 0;
  for (let j = 0; j < out.length; j++) mark[out[j]] = 0;
  return out;
}

/** Ranks the held-out item of every evaluated user with a fitted model. */
export async function evaluateModel(
  model: Recommender,
  split: LeaveOneOutSplit,
  opts: EvaluateOptions,
): Promise<EvaluationResult> {
  const started = process.hrtime.bigint();
  const protocol = opts.protocol;
  if (protocol !== 'full' && protocol !== 'sampled100')
    throw new Error(`unknown protocol '${String(protocol)}'`);
  const cases: readonly EvalCase[] = opts.target === 'validation' ? split.validation : split.test;
  const numItems = split.train.numItems;
  const ks = opts.ks ?? DEFAULT_CUTOFFS;
  const coverageK = opts.coverageK ?? 10;
  const numNegatives = opts.numNegatives ?? 100;
  const batchSize = Math.max(1, opts.batchSize ?? model.preferredBatchSize ?? 256);
  const acc = new MetricAccumulator(ks, opts.tieMode ?? DEFAULT_TIE_MODE);
  const covered = new Uint8Array(numItems);
  const topk = new TopK(coverageK);
  const mark = new Uint8Array(numItems);
  const rows: Float32Array[] = [];
  for (let r = 0; r < Math.min(batchSize, cases.length); r++) rows.push(new Float32Array(numItems));

  for (let start = 0; start < cases.length; start += batchSize) {
    const batchCases = cases.slice(start, start + batchSize);
    const users = Int32Array.from(batchCases, (c) => c.user);
    const histories = batchCases.map((c) => c.history);
    const out = rows.slice(0, batchCases.length);
    for (const row of out) row.fill(0);
    await model.scoreUsers({ users, histories }, out);

    for (let r = 0; r < batchCases.length; r++) {
      const { user, history, target } = batchCases[r];
      const row = out[r];
      const st = row[target];
      if (st !== st)
        throw new Error(
          `model '${model.name}' produced NaN for the target of user ${split.train.userIds[user]}`,
        );
      let higher = 0;
      let ties = 0;
      topk.reset();
      if (protocol === 'full') {
        // remove history items (except the target) by setting them to NaN: NaN is neither > nor === st
        let removed = 0;
        for (let j = 0; j < history.length; j++) {
          const h = history[j];
          if (h !== target && row[h] === row[h]) {
            row[h] = NaN;
            removed++;
          }
        }
        let nan = 0;
        let thr = -Infinity;
        for (let i = 0; i < numItems; i++) {
          const s = row[i];
          if (s > st) higher++;
          else if (s === st) ties++;
          else if (s !== s) nan++;
          if (s > thr) {
            topk.offer(i, s);
            thr = topk.threshold();
          }
        }
        if (st === -Infinity && topk.size < coverageK) {
          for (let i = 0; i < numItems && topk.size < coverageK; i++)
            if (row[i] === -Infinity) topk.offer(i, row[i]);
        }
        ties -= 1; // the target itself
        if (nan > removed)
          throw new Error(`model '${model.name}' produced NaN scores for user ${split.train.userIds[user]}`);
      } else {
        const rand = userRng(opts.seed, split.train.userIds[user]);
        const negatives = drawNegatives(rand, numItems, split.allSequences[user], numNegatives, mark);
        const candidates = Array.from(negatives)
          .concat(target)
          .sort((a, b) => a - b);
        for (const i of candidates) {
          const s = row[i];
          if (s !== s)
            throw new Error(
              `model '${model.name}' produced NaN scores for user ${split.train.userIds[user]}`,
            );
          if (i !== target) {
            if (s > st) higher++;
            else if (s === st) ties++;
          }
          topk.offer(i, s);
        }
      }
      acc.add(higher, ties);
      for (let j = 0; j < topk.size; j++) covered[topk.items[j]] = 1;
    }
    opts.onProgress?.(Math.min(start + batchSize, cases.length), cases.length);
  }

  let coveredCount = 0;
  for (let i = 0; i < numItems; i++) coveredCount += covered[i];
  const metrics = acc.result();
  metrics[`coverage@${coverageK}`] = numItems === 0 ? 0 : coveredCount / numItems;
  return {
    users: acc.count,
    items: numItems,
    metrics,
    evalSeconds: Number(process.hrtime.bigint() - started) / 1e9,
  };
}
