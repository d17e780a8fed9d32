/**
 * Full-catalog rank of a target (libs/evaluation's `full` protocol): history items other than
 * the target are removed; ties take the average position rounded toward the top
 * (r = higher + floor(ties / 2)). Returns the 0-based rank.
 */
export function fullRank(
  scores: Float32Array | Float64Array,
  target: number,
  history: ArrayLike<number>,
  mark: Uint8Array,
): number {
  const st = scores[target];
  let higher = 0;
  let ties = -1;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i];
    if (s > st) higher++;
    else if (s === st) ties++;
  }
  for (let j = 0; j < history.length; j++) {
    const h = history[j];
    if (h === target || mark[h]) continue;
    mark[h] = 1;
    const s = scores[h];
    if (s > st) higher--;
    else if (s === st) ties--;
  }
  for (let j = 0; j < history.length; j++) mark[history[j]] = 0;
  return higher + Math.floor(ties / 2);
}

export const ndcgAt = (rank: number, k: number): number => (rank < k ? 1 / Math.log2(rank + 2) : 0);
