/**
 * Exact maximum-inner-product search: the reference an approximate index is measured against.
 * `vectors` is n x dim row-major.
 */
export function exactTopK(vectors: Float32Array, dim: number, query: ArrayLike<number>, k: number): number[] {
  const n = vectors.length / dim;
  const kk = Math.min(k, n);
  // A bounded min-heap of (score, label) keeps this O(n log k).
  const heapScore = new Float64Array(kk);
  const heapLabel = new Int32Array(kk);
  let size = 0;
  const siftDown = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < size && heapScore[l] < heapScore[m]) m = l;
      if (r < size && heapScore[r] < heapScore[m]) m = r;
      if (m === i) return;
      [heapScore[i], heapScore[m]] = [heapScore[m], heapScore[i]];
      [heapLabel[i], heapLabel[m]] = [heapLabel[m], heapLabel[i]];
      i = m;
    }
  };
  for (let i = 0; i < n; i++) {
    let s = 0;
    const base = i * dim;
    for (let d = 0; d < dim; d++) s += vectors[base + d] * query[d];
    if (size < kk) {
      let j = size++;
      heapScore[j] = s;
      heapLabel[j] = i;
      while (j > 0) {
        const p = (j - 1) >> 1;
        if (heapScore[p] <= heapScore[j]) break;
        [heapScore[p], heapScore[j]] = [heapScore[j], heapScore[p]];
        [heapLabel[p], heapLabel[j]] = [heapLabel[j], heapLabel[p]];
        j = p;
      }
    } else if (s > heapScore[0]) {
      heapScore[0] = s;
      heapLabel[0] = i;
      siftDown(0);
    }
  }
  const order = Array.from({ length: size }, (_, i) => i).sort((a, b) => heapScore[b] - heapScore[a]);
  return order.map((i) => heapLabel[i]);
}

/** Mean share of each exact top-k list found in the matching approximate list. */
export function recallAtK(
  approximate: readonly (readonly number[])[],
  exact: readonly (readonly number[])[],
): number {
  if (approximate.length !== exact.length) throw new Error('recallAtK: lists differ in length');
  let sum = 0;
  for (let q = 0; q < exact.length; q++) {
    const found = new Set(approximate[q]);
    let hit = 0;
    for (const label of exact[q]) if (found.has(label)) hit++;
    sum += exact[q].length ? hit / exact[q].length : 1;
  }
  return exact.length ? sum / exact.length : 1;
}
