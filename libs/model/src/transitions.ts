/**
 * Order-aware item-to-item transitions (the `itemknn` signal of libs/evaluation, as a feature):
 * T[a][b] += 1/d whenever b follows a at distance d <= window in a sequence; a user's transition
 * score of item b is sum_j (1/j) * T[h_j][b] over their last `lastItems` items (h_1 = latest).
 * Stored as CSR so it can be saved with a model artifact and used online.
 */
export interface TransitionOptions {
  /** Max distance counted between a and a later b (default 3). */
  window?: number;
  /** Number of a user's last items that vote (default 3). */
  lastItems?: number;
}

export class Transitions {
  /** Scratch accumulators (one scorer per thread; not re-entrant). */
  private readonly acc: Float64Array;
  private readonly flag: Uint8Array;

  constructor(
    readonly numItems: number,
    readonly window: number,
    readonly lastItems: number,
    readonly rowStart: Int32Array,
    readonly cols: Int32Array,
    readonly weights: Float32Array,
  ) {
    if (rowStart.length !== numItems + 1)
      throw new Error('transitions: rowStart must have numItems + 1 entries');
    if (cols.length !== weights.length || cols.length !== rowStart[numItems])
      throw new Error('transitions: cols/weights length mismatch');
    this.acc = new Float64Array(numItems);
    this.flag = new Uint8Array(numItems);
  }

  /** Counts transitions over sequences of dense item indices (0..numItems-1). */
  static count(
    sequences: readonly ArrayLike<number>[],
    numItems: number,
    opts: TransitionOptions = {},
  ): Transitions {
    const window = opts.window ?? 3;
    const lastItems = opts.lastItems ?? 3;
    const rows: Map<number, number>[] = Array.from({ length: numItems }, () => new Map());
    for (const seq of sequences) {
      for (let i = 0; i < seq.length; i++) {
        const a = seq[i];
        const row = rows[a];
        const end = Math.min(seq.length, i + window + 1);
        for (let j = i + 1; j < end; j++) {
          const b = seq[j];
          if (b === a) continue;
          row.set(b, (row.get(b) ?? 0) + 1 / (j - i));
        }
      }
    }
    const rowStart = new Int32Array(numItems + 1);
    for (let a = 0; a < numItems; a++) rowStart[a + 1] = rowStart[a] + rows[a].size;
    const cols = new Int32Array(rowStart[numItems]);
    const weights = new Float32Array(rowStart[numItems]);
    for (let a = 0; a < numItems; a++) {
      const entries = [...rows[a].entries()].sort((x, y) => x[0] - y[0]);
      let p = rowStart[a];
      for (const [b, w] of entries) {
        cols[p] = b;
        weights[p++] = w;
      }
    }
    return new Transitions(numItems, window, lastItems, rowStart, cols, weights);
  }

  /**
   * Sparse transition scores from the last items of `recent` (time order, latest last):
   * calls visit(item, score) once per reached item (score > 0).
   */
  forEachScore(recent: ArrayLike<number>, visit: (item: number, score: number) => void): void {
    const { acc, flag, rowStart, cols, weights } = this;
    const touched: number[] = [];
    const L = recent.length;
    for (let j = 1; j <= this.lastItems && j <= L; j++) {
      const a = recent[L - j];
      if (a < 0 || a >= this.numItems) continue;
      const uw = 1 / j;
      for (let p = rowStart[a]; p < rowStart[a + 1]; p++) {
        const b = cols[p];
        if (!flag[b]) {
          flag[b] = 1;
          touched.push(b);
        }
        acc[b] += uw * weights[p];
      }
    }
    for (const b of touched) {
      visit(b, acc[b]);
      acc[b] = 0;
      flag[b] = 0;
    }
  }
}
