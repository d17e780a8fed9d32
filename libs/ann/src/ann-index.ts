import { HierarchicalNSW } from 'hnswlib-node';

export interface AnnOptions {
  /** Graph degree (hnswlib M). */
  m?: number;
  /** Candidate list size while building. */
  efConstruction?: number;
  /** Candidate list size while searching; raised to k when k is larger. */
  efSearch?: number;
  /** Extra room for items added after the build (new catalog items). */
  spareCapacity?: number;
  seed?: number;
}

export const DEFAULT_ANN: Required<AnnOptions> = {
  m: 16,
  efConstruction: 200,
  efSearch: 100,
  spareCapacity: 1024,
  seed: 100,
};

export interface AnnHit {
  /** Labels (the caller's item indices), best first. */
  labels: number[];
  /** Inner products with the query, in the same order. */
  scores: number[];
}

/**
 * Approximate maximum-inner-product index over item embeddings: HNSW (hnswlib).
 *
 * HNSW on raw inner products loses recall when item norms differ (trained embeddings' norms
 * do: popular items are longer). So the index uses the standard MIPS-to-nearest-neighbour
 * reduction (Bachrach et al., 2014): item x becomes (x, sqrt(R^2 - |x|^2)) and a query q becomes
 * (q, 0), where R bounds the item norms; then |q' - x'|^2 = |q|^2 + R^2 - 2 q.x, so the L2
 * nearest neighbours are exactly the largest inner products, and the score is recovered from
 * the distance. R is 1.25 x the largest norm at build time, leaving room for items added later
 * (a later item longer than R is scaled into the bound, which only affects its own rank).
 *
 * Labels are the caller's dense item indices. Searches are synchronous and take microseconds
 * to a millisecond.
 */
export class AnnIndex {
  private readonly index: HierarchicalNSW;
  private readonly opts: Required<AnnOptions>;
  private count = 0;
  private capacity: number;
  /** Bound of item norms (see the class comment); set by build. */
  private radius = 1;
  private readonly row: number[];

  private constructor(
    readonly dim: number,
    capacity: number,
    opts: AnnOptions,
  ) {
    this.opts = { ...DEFAULT_ANN, ...opts };
    this.capacity = capacity;
    this.index = new HierarchicalNSW('l2', dim + 1);
    this.index.initIndex(capacity, this.opts.m, this.opts.efConstruction, this.opts.seed);
    this.index.setEf(this.opts.efSearch);
    this.row = new Array<number>(dim + 1).fill(0);
  }

  /** Builds an index over `vectors` (n x dim row-major); row i gets label i. */
  static build(vectors: Float32Array, dim: number, opts: AnnOptions = {}): AnnIndex {
    const n = vectors.length / dim;
    if (!Number.isInteger(n))
      throw new Error(`ann: ${vectors.length} values is not a multiple of dim ${dim}`);
    const index = new AnnIndex(dim, Math.max(1, n + (opts.spareCapacity ?? DEFAULT_ANN.spareCapacity)), opts);
    let maxNorm = 0;
    for (let i = 0; i < n; i++) maxNorm = Math.max(maxNorm, norm(vectors.subarray(i * dim, (i + 1) * dim)));
    index.radius = Math.max(1e-6, 1.25 * maxNorm);
    for (let i = 0; i < n; i++) index.insert(i, vectors.subarray(i * dim, (i + 1) * dim));
    return index;
  }

  /**
   * The same build in chunks, yielding to the event loop between them, so a serving process
   * keeps answering while it indexes a new model version.
   */
  static async buildAsync(
    vectors: Float32Array,
    dim: number,
    opts: AnnOptions = {},
    chunk = 500,
  ): Promise<AnnIndex> {
    const n = vectors.length / dim;
    if (!Number.isInteger(n))
      throw new Error(`ann: ${vectors.length} values is not a multiple of dim ${dim}`);
    const index = new AnnIndex(dim, Math.max(1, n + (opts.spareCapacity ?? DEFAULT_ANN.spareCapacity)), opts);
    let maxNorm = 0;
    for (let i = 0; i < n; i++) maxNorm = Math.max(maxNorm, norm(vectors.subarray(i * dim, (i + 1) * dim)));
    index.radius = Math.max(1e-6, 1.25 * maxNorm);
    for (let start = 0; start < n; start += chunk) {
      const end = Math.min(n, start + chunk);
      for (let i = start; i < end; i++) index.insert(i, vectors.subarray(i * dim, (i + 1) * dim));
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return index;
  }

  get size(): number {
    return this.count;
  }

  /** Adds the vector of a new `label` (an item added after the build). */
  add(label: number, vector: ArrayLike<number>): void {
    if (this.count >= this.capacity) {
      this.capacity = Math.ceil(this.capacity * 1.5) + 16;
      this.index.resizeIndex(this.capacity);
    }
    this.insert(label, vector);
  }

  private insert(label: number, vector: ArrayLike<number>): void {
    const { dim, row } = this;
    const n = norm(vector);
    const scale = n > this.radius ? this.radius / n : 1;
    for (let d = 0; d < dim; d++) row[d] = vector[d] * scale;
    row[dim] = Math.sqrt(Math.max(0, this.radius * this.radius - n * n * scale * scale));
    this.index.addPoint(row, label);
    this.count++;
  }

  /** The k labels with the highest inner product with `query` (approximately). */
  search(query: ArrayLike<number>, k: number): AnnHit {
    const kk = Math.min(k, this.count);
    if (kk <= 0) return { labels: [], scores: [] };
    if (this.index.getEf() < kk) this.index.setEf(kk);
    else if (this.index.getEf() !== Math.max(this.opts.efSearch, kk))
      this.index.setEf(Math.max(this.opts.efSearch, kk));
    const q = new Array<number>(this.dim + 1);
    for (let d = 0; d < this.dim; d++) q[d] = query[d];
    q[this.dim] = 0;
    const q2 = norm(query) ** 2;
    const r2 = this.radius * this.radius;
    const { neighbors, distances } = this.index.searchKnn(q, kk);
    // hnswlib's l2 distance is the squared distance: |q|^2 + R^2 - 2 q.x
    return { labels: neighbors, scores: distances.map((dist) => (q2 + r2 - dist) / 2) };
  }
}

function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}
