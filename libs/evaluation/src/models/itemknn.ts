import type { FitOptions, Recommender, ScoreBatch } from '../recommender';
import type { EvalCase, TrainData } from '../split';
import { itemCounts } from './popular';

export interface ItemKnnOptions {
  /** Max distance (in steps) counted between item a and a later item b. Default 3. */
  window?: number;
  /** Number of a user's last items that vote for candidates. Default 3. */
  lastItems?: number;
}

/**
 * Order-aware item-to-item transitions (the baseline of /work/shared/datasets/README.md).
 *
 * fit: over all training sequences, T[a][b] += 1/d whenever b follows a at distance d <= window.
 * score(user) = sum over the user's last `lastItems` items h_1 (latest), h_2, ... of
 *               (1/j) * T[h_j][b], with popularity (training counts) as tie-breaker.
 *
 * The tie-breaker is lexicographic (transition score first, then popularity), which is the
 * eps -> 0 limit of `score + eps * popularity / maxPopularity`; items equal in both tie and take
 * the average position. To stay exact in a Float32Array row, transition weights are accumulated
 * as integers (units of 1/L^2 with L = lcm(1..max(window, lastItems))) and each row gets ordinal
 * scores: items with transitions score 1 + (dense rank of (transition, popularity)), the others
 * popularity / (maxPopularity + 1) in [0, 1).
 */
export class ItemKnnRecommender implements Recommender {
  readonly name = 'itemknn';
  /** Counting needs no early stopping: count over the test-time histories (reproduces the README table). */
  readonly defaultFitOn = 'train+valid' as const;
  readonly preferredBatchSize = 256;
  readonly window: number;
  readonly lastItems: number;
  private readonly unit: number;
  private numItems = 0;
  /** CSR transitions: for item a, targets cols[rowStart[a]..rowStart[a+1]) with integer weights (units 1/unit). */
  private rowStart = new Int32Array(1);
  private cols = new Int32Array(0);
  private weights = new Float64Array(0);
  private popularity: Float64Array = new Float64Array(0);
  private baseRow = new Float32Array(0);
  private acc = new Float64Array(0);
  private touchedFlag = new Uint8Array(0);

  constructor(opts: ItemKnnOptions = {}) {
    this.window = opts.window ?? 3;
    this.lastItems = opts.lastItems ?? 3;
    if (!(this.window >= 1) || !(this.lastItems >= 1))
      throw new Error('itemknn: window and lastItems must be >= 1');
    let l = 1;
    const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
    for (let i = 2; i <= Math.max(this.window, this.lastItems); i++) l = (l * i) / gcd(l, i);
    this.unit = l;
  }

  async fit(train: TrainData, _validation?: readonly EvalCase[], _opts?: FitOptions): Promise<void> {
    const n = train.numItems;
    const w = this.window;
    this.numItems = n;
    // pass 1: number of (a, b) pair occurrences per source a
    const counts = new Int32Array(n + 1);
    for (const seq of train.sequences) {
      for (let i = 0; i < seq.length; i++) {
        const end = Math.min(seq.length, i + w + 1);
        for (let j = i + 1; j < end; j++) if (seq[j] !== seq[i]) counts[seq[i] + 1]++;
      }
    }
    for (let a = 0; a < n; a++) counts[a + 1] += counts[a];
    const rawCols = new Int32Array(counts[n]);
    const rawW = new Int32Array(counts[n]);
    const fillPos = counts.slice(0, n);
    for (const seq of train.sequences) {
      for (let i = 0; i < seq.length; i++) {
        const a = seq[i];
        const end = Math.min(seq.length, i + w + 1);
        for (let j = i + 1; j < end; j++) {
          if (seq[j] === a) continue;
          const p = fillPos[a]++;
          rawCols[p] = seq[j];
          rawW[p] = this.unit / (j - i);
        }
      }
    }
    // pass 2: merge duplicates per source row
    const acc = new Float64Array(n);
    const seen = new Uint8Array(n);
    const rowStart = new Int32Array(n + 1);
    const cols: number[] = [];
    const weights: number[] = [];
    const touched: number[] = [];
    for (let a = 0; a < n; a++) {
      touched.length = 0;
      for (let p = counts[a]; p < counts[a + 1]; p++) {
        const b = rawCols[p];
        if (!seen[b]) {
          seen[b] = 1;
          touched.push(b);
        }
        acc[b] += rawW[p];
      }
      touched.sort((x, y) => x - y);
      for (const b of touched) {
        cols.push(b);
        weights.push(acc[b]);
        acc[b] = 0;
        seen[b] = 0;
      }
      rowStart[a + 1] = cols.length;
    }
    this.rowStart = rowStart;
    this.cols = Int32Array.from(cols);
    this.weights = Float64Array.from(weights);

    this.popularity = itemCounts(train);
    let maxPop = 0;
    for (let i = 0; i < n; i++) maxPop = Math.max(maxPop, this.popularity[i]);
    this.baseRow = new Float32Array(n);
    for (let i = 0; i < n; i++) this.baseRow[i] = this.popularity[i] / (maxPop + 1);
    this.acc = new Float64Array(n);
    this.touchedFlag = new Uint8Array(n);
  }

  /** Number of distinct (a, b) transitions kept. */
  get numTransitions(): number {
    return this.cols.length;
  }

  /** Transition weights from item a (as real numbers), e.g. for blending in a ranker. */
  transitionsFrom(a: number): { items: Int32Array; weights: Float64Array } {
    const s = this.rowStart[a];
    const e = this.rowStart[a + 1];
    return { items: this.cols.slice(s, e), weights: this.weights.slice(s, e).map((x) => x / this.unit) };
  }

  /**
   * Raw transition scores of a history (sparse, real-valued, without tie-breaker): the items
   * reached from the last items and their scores.
   */
  transitionScores(history: Int32Array): { items: number[]; scores: number[] } {
    const touched = this.accumulate(history);
    const scores = touched.map((b) => this.acc[b] / (this.unit * this.unit));
    for (const b of touched) {
      this.acc[b] = 0;
      this.touchedFlag[b] = 0;
    }
    return { items: touched, scores };
  }

  private accumulate(history: Int32Array): number[] {
    const touched: number[] = [];
    const { acc, touchedFlag, rowStart, cols, weights } = this;
    const L = history.length;
    for (let j = 1; j <= this.lastItems && j <= L; j++) {
      const a = history[L - j];
      const uw = this.unit / j;
      for (let p = rowStart[a]; p < rowStart[a + 1]; p++) {
        const b = cols[p];
        if (!touchedFlag[b]) {
          touchedFlag[b] = 1;
          touched.push(b);
        }
        acc[b] += uw * weights[p];
      }
    }
    return touched;
  }

  scoreUsers(batch: ScoreBatch, out: Float32Array[]): void {
    const { acc, touchedFlag, popularity } = this;
    for (let r = 0; r < batch.users.length; r++) {
      const row = out[r];
      row.set(this.baseRow);
      const touched = this.accumulate(batch.histories[r]);
      touched.sort((x, y) => acc[x] - acc[y] || popularity[x] - popularity[y]);
      let level = 0;
      for (let t = 0; t < touched.length; t++) {
        const b = touched[t];
        if (t > 0) {
          const prev = touched[t - 1];
          if (acc[prev] !== acc[b] || popularity[prev] !== popularity[b]) level++;
        }
        row[b] = 1 + level;
      }
      for (const b of touched) {
        acc[b] = 0;
        touchedFlag[b] = 0;
      }
    }
  }
}
