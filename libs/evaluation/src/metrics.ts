/**
 * Ranking metrics with ties.
 *
 * A ranking is summarized by `higher` (candidates scoring strictly above the target) and `ties`
 * (OTHER candidates scoring exactly the target's score). The target takes the average position
 * among the tied block, i.e. the 0-based positions higher .. higher + ties, whose average is
 * higher + ties / 2. Metrics of a 0-based rank r and cutoff K (one relevant item, ideal DCG 1):
 *
 *     HR@K   = 1 if r < K else 0
 *     NDCG@K = 1 / log2(r + 2) if r < K else 0
 *     MRR    = 1 / (r + 1)
 *
 * Tie modes (which r):
 *  - 'average-floor' (default): r = higher + floor(ties / 2), the average position rounded to a
 *    whole position toward the top when it falls between two positions (odd `ties`). This is the
 *    convention that reproduces every number of the baseline table in
 *    /work/shared/datasets/README.md. HR@K is identical to 'average-fractional' (for integer
 *    higher, higher + ties/2 < K  <=>  higher + floor(ties/2) < K); NDCG and MRR are slightly higher.
 *  - 'average-fractional': r = higher + ties / 2 used as a fractional rank in the formulas above
 *    (NDCG@10 comes out 0.0001 below the README table on 3 of its 4 `full` rows).
 *  - 'expected': the expectation of each metric over a uniformly random order of the tied block.
 *
 * Example: higher = 0, ties = 3 (four items share the top score): 'average-floor' r = 1 ->
 * HR@1 = 0, NDCG@5 = 1/log2(3), MRR = 1/2; 'average-fractional' r = 1.5 -> NDCG@5 = 1/log2(3.5),
 * MRR = 1/2.5.
 */
export type TieMode = 'average-floor' | 'average-fractional' | 'expected';
export const TIE_MODES: readonly TieMode[] = ['average-floor', 'average-fractional', 'expected'];
export const DEFAULT_TIE_MODE: TieMode = 'average-floor';

export const DEFAULT_CUTOFFS: readonly number[] = [5, 10, 20];

/** The 0-based rank r used by the 'average-floor' and 'average-fractional' modes. */
export function tieRank(higher: number, ties: number, tieMode: TieMode = DEFAULT_TIE_MODE): number {
  return tieMode === 'average-fractional' ? higher + ties / 2 : higher + Math.floor(ties / 2);
}

export interface RankMetrics {
  hr: number[];
  ndcg: number[];
  mrr: number;
}

/** Metrics of one ranking for the cutoffs `ks`. */
export function rankMetrics(
  higher: number,
  ties: number,
  ks: readonly number[] = DEFAULT_CUTOFFS,
  tieMode: TieMode = DEFAULT_TIE_MODE,
): RankMetrics {
  if (tieMode !== 'expected' || ties === 0) {
    const r = tieRank(higher, ties, tieMode);
    return {
      hr: ks.map((k) => (r < k ? 1 : 0)),
      ndcg: ks.map((k) => (r < k ? 1 / Math.log2(r + 2) : 0)),
      mrr: 1 / (r + 1),
    };
  }
  const n = ties + 1;
  const hr = ks.map(() => 0);
  const ndcg = ks.map(() => 0);
  let mrr = 0;
  for (let p = higher; p <= higher + ties; p++) {
    mrr += 1 / (p + 1) / n;
    ks.forEach((k, j) => {
      if (p < k) {
        hr[j] += 1 / n;
        ndcg[j] += 1 / Math.log2(p + 2) / n;
      }
    });
  }
  return { hr, ndcg, mrr };
}

/** Sums per-user metrics; `result()` gives the means. */
export class MetricAccumulator {
  private readonly hr: number[];
  private readonly ndcg: number[];
  private mrr = 0;
  count = 0;

  constructor(
    readonly ks: readonly number[] = DEFAULT_CUTOFFS,
    readonly tieMode: TieMode = DEFAULT_TIE_MODE,
  ) {
    this.hr = ks.map(() => 0);
    this.ndcg = ks.map(() => 0);
  }

  add(higher: number, ties: number): void {
    const m = rankMetrics(higher, ties, this.ks, this.tieMode);
    for (let j = 0; j < this.ks.length; j++) {
      this.hr[j] += m.hr[j];
      this.ndcg[j] += m.ndcg[j];
    }
    this.mrr += m.mrr;
    this.count++;
  }

  /** Means over the added users, keyed `HR@K`, `NDCG@K`, `MRR`. */
  result(): Record<string, number> {
    const out: Record<string, number> = {};
    const n = Math.max(1, this.count);
    this.ks.forEach((k, j) => (out[`HR@${k}`] = this.hr[j] / n));
    this.ks.forEach((k, j) => (out[`NDCG@${k}`] = this.ndcg[j] / n));
    out.MRR = this.mrr / n;
    return out;
  }
}
