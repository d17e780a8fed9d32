/**
 * Partial selection of the k best entries of a score row without sorting the row.
 * Ties are broken by the lower item index (deterministic). NaN entries are skipped.
 */
export class TopK {
  readonly items: Int32Array;
  readonly scores: Float64Array;
  size = 0;

  constructor(readonly k: number) {
    this.items = new Int32Array(k);
    this.scores = new Float64Array(k);
  }

  reset(): void {
    this.size = 0;
  }

  /** Lowest score currently kept (-Infinity while not full). */
  threshold(): number {
    return this.size < this.k ? -Infinity : this.scores[this.k - 1];
  }

  /**
   * Offers an item. Items must be offered in increasing index order for the lower-index tie
   * rule to hold (an equal score never displaces an earlier item).
   */
  offer(item: number, score: number): void {
    const k = this.k;
    if (!(score > this.threshold()) && this.size === k) return;
    if (score !== score) return;
    // insertion into the descending list; equal scores stay behind earlier items
    let pos = this.size < k ? this.size : k - 1;
    while (pos > 0 && this.scores[pos - 1] < score) {
      this.scores[pos] = this.scores[pos - 1];
      this.items[pos] = this.items[pos - 1];
      pos--;
    }
    this.scores[pos] = score;
    this.items[pos] = item;
    if (this.size < k) this.size++;
  }

  /** Kept items, best first. */
  toArray(): number[] {
    return Array.from(this.items.subarray(0, this.size));
  }
}

/** Top-k item indices of a row (ties -> lower index), skipping items where `skip(i)` is true. */
export function topKOfRow(row: ArrayLike<number>, k: number, skip?: (i: number) => boolean): number[] {
  const t = new TopK(k);
  for (let i = 0; i < row.length; i++) {
    if (skip && skip(i)) continue;
    t.offer(i, row[i]);
  }
  return t.toArray();
}
