import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HierarchicalNSW } from 'hnswlib-node';
import { breadthFirstOrder, readLayout, renumber } from './graph-layout';
import { mulberry32 } from './rng';
import { exactTopKMany, recallAtK } from './exact';

export interface AnnOptions {
  /** Graph degree (hnswlib M). */
  m?: number;
  /** Candidate list size while building. */
  efConstruction?: number;
  /**
   * Candidate list size while searching. With calibration on (`targetRecall` > 0) it is the
   * floor: calibration starts its ladder at max(efSearch, calibrationK) and only raises it.
   * With `targetRecall: 0` it is used as given. Raised to k when a search asks for more.
   */
  efSearch?: number;
  /**
   * Recall@calibrationK against exact search that the build calibrates efSearch to reach on a
   * sample of queries (see `AnnCalibration`); 0 turns calibration off. The default 0.97 leaves
   * room for the sample's error, so that other queries clear 0.95.
   */
  targetRecall?: number;
  /** Largest efSearch calibration may choose (bounds search time when the target is out of reach). */
  maxEfSearch?: number;
  /** Queries in the calibration sample (each costs one exact search: ~4 ms at 100,000 64-d items). */
  calibrationQueries?: number;
  /** The k of the recall calibration measures: the number of candidates the caller takes. */
  calibrationK?: number;
  /** Extra room for items added after the build (new catalog items). */
  spareCapacity?: number;
  /** Seed of the graph's level draws and of the calibration sample. */
  seed?: number;
  /**
   * How `build` lays the graph out in memory: renumbered breadth-first (graph-layout.ts; the
   * same answers, faster searches) or left in insertion order (for comparisons).
   */
  layout?: 'breadth-first' | 'insertion';
  /**
   * Real users' interest vectors (n x dim, e.g. a model's `userSample`): calibration then also
   * requires the target on up to `calibrationQueries` of them. Users' vectors are not item-like
   * (on a model trained on Amazon Beauty, efSearch 100 gave recall 0.99 on item-derived queries
   * and 0.89 on users').
   */
  userQueries?: Float32Array;
}

/**
 * efConstruction 800: at 100,000 category-clustered 64-d items the calibrated efSearch is 125
 * (0.16 ms a search, recall@100 0.956 on users' vectors) against 250 at 400 (0.20–0.24 ms) and
 * 600 at 200 (0.45–0.49 ms), for about twice the build time of 400 (55 s against 26–30 s on one
 * core); M 24 or 32 did not help (docs/benchmarks.md). Serving pays for every search, the
 * build happens once per model version, off the serving thread.
 */
export const DEFAULT_ANN: Required<AnnOptions> = {
  m: 16,
  efConstruction: 800,
  efSearch: 100,
  targetRecall: 0.97,
  maxEfSearch: 1000,
  calibrationQueries: 200,
  calibrationK: 100,
  spareCapacity: 1024,
  seed: 100,
  layout: 'breadth-first',
  userQueries: new Float32Array(0),
};

/** What a saved index needs besides its graph file (see `AnnIndex.save`). */
export interface AnnIndexMeta {
  dim: number;
  count: number;
  capacity: number;
  radius: number;
  efSearch: number;
  calibration?: AnnCalibration;
  layout: AnnLayout;
  opts: Required<AnnOptions>;
}

/**
 * How an index's graph lies in memory: 'breadth-first' once `build` renumbered it
 * (graph-layout.ts), else insertion order, with the reason when renumbering failed.
 */
export interface AnnLayout {
  order: 'insertion' | 'breadth-first';
  failure?: string;
}

/**
 * What calibration chose and measured. The item-derived sample (deterministic in `seed`): 60%
 * are vectors of random items (SimilarItems' queries), 40% the mean of one of those and 1–3 of
 * its exact top-k items (a focused taste). Means of random items from different categories (a
 * diffuse taste) are left out: at 100,000 synthetic clustered items their recall stays near 0.6
 * even at efSearch 1000, so they would pin every index to the cap (docs/benchmarks.md, "ANN
 * index: recall and cost at 100,000 items"). With `userQueries` (a trained model's sample of
 * real users' vectors), those must reach the target as well.
 */
export interface AnnCalibration {
  /** The efSearch the index searches with: the first on the ladder that reached the target, else the cap. */
  efSearch: number;
  /** Recall@k at that efSearch: the lower of the item-derived and the users' queries'. */
  recall: number;
  /** Recall@k of each kind of query at that efSearch (`users` only with `userQueries`). */
  recallBy: { items: number; users?: number };
  /** The target; `reached` is false when even `maxEfSearch` fell short of it. */
  target: number;
  reached: boolean;
  k: number;
  /** Queries in the sample (item-derived plus users'). */
  queries: number;
  /** Time calibration took (exact search of the sample plus the ladder's searches). */
  ms: number;
  /** Every rung tried, in order. */
  ladder: { efSearch: number; recall: number; recallBy: { items: number; users?: number } }[];
}

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
  private index: HierarchicalNSW;
  private laidOut: AnnLayout = { order: 'insertion' };
  private readonly opts: Required<AnnOptions>;
  private count = 0;
  private capacity: number;
  /** Bound of item norms (see the class comment); set by build. */
  private radius = 1;
  private readonly row: number[];
  /** The efSearch searches use (calibrated, or the option). */
  private ef: number;
  private calibrated?: AnnCalibration;

  private constructor(
    readonly dim: number,
    capacity: number,
    opts: AnnOptions,
    /** false: the graph comes from a file (load), not empty */
    init = true,
  ) {
    // an option given as undefined takes its default (a spread would copy the undefined)
    const given = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined));
    this.opts = { ...DEFAULT_ANN, ...given };
    this.capacity = capacity;
    this.index = new HierarchicalNSW('l2', dim + 1);
    this.ef = this.opts.efSearch;
    if (init) {
      this.index.initIndex(capacity, this.opts.m, this.opts.efConstruction, this.opts.seed);
      this.index.setEf(this.ef);
    }
    this.row = new Array<number>(dim + 1).fill(0);
  }

  /**
   * Builds an index over `vectors` (n x dim row-major; row i gets label i), then calibrates
   * efSearch to `targetRecall` (unless it is 0).
   */
  static build(vectors: Float32Array, dim: number, opts: AnnOptions = {}): AnnIndex {
    const index = AnnIndex.create(vectors, dim, opts);
    const n = vectors.length / dim;
    for (let i = 0; i < n; i++) index.insert(i, vectors.subarray(i * dim, (i + 1) * dim));
    if (index.opts.layout === 'breadth-first') index.layOutBreadthFirst();
    const steps = index.calibrate(vectors);
    let step = steps.next();
    while (!step.done) step = steps.next();
    return index;
  }

  /**
   * The same build (and calibration) in chunks, yielding to the event loop between them, so a
   * serving process keeps answering while it indexes a new model version. The graph keeps its
   * insertion order: renumbering it is one block of a few hundred milliseconds at 100,000
   * items, too long for the event loop (the thread builds use `build`).
   */
  static async buildAsync(
    vectors: Float32Array,
    dim: number,
    opts: AnnOptions = {},
    chunk = 500,
  ): Promise<AnnIndex> {
    const index = AnnIndex.create(vectors, dim, opts);
    const n = vectors.length / dim;
    const pause = () => new Promise<void>((resolve) => setImmediate(resolve));
    for (let start = 0; start < n; start += chunk) {
      const end = Math.min(n, start + chunk);
      for (let i = start; i < end; i++) index.insert(i, vectors.subarray(i * dim, (i + 1) * dim));
      await pause();
    }
    const steps = index.calibrate(vectors);
    for (let step = steps.next(); !step.done; step = steps.next()) await pause();
    return index;
  }

  private static create(vectors: Float32Array, dim: number, opts: AnnOptions): AnnIndex {
    const n = vectors.length / dim;
    if (!Number.isInteger(n))
      throw new Error(`ann: ${vectors.length} values is not a multiple of dim ${dim}`);
    const index = new AnnIndex(dim, Math.max(1, n + (opts.spareCapacity ?? DEFAULT_ANN.spareCapacity)), opts);
    let maxNorm = 0;
    for (let i = 0; i < n; i++) maxNorm = Math.max(maxNorm, norm(vectors.subarray(i * dim, (i + 1) * dim)));
    index.radius = Math.max(1e-6, 1.25 * maxNorm);
    return index;
  }

  /**
   * Writes the graph to `path` and returns what `load` needs besides it. Lets one thread build
   * an index (seconds to minutes of CPU) and another search it.
   */
  save(path: string): AnnIndexMeta {
    this.index.writeIndexSync(path);
    return {
      dim: this.dim,
      count: this.count,
      capacity: this.capacity,
      radius: this.radius,
      efSearch: this.ef,
      calibration: this.calibrated,
      layout: this.laidOut,
      opts: { ...this.opts, userQueries: DEFAULT_ANN.userQueries }, // used up by calibration
    };
  }

  /** An index saved by `save`; the file is read on libuv's thread pool, not the event loop. */
  static async load(path: string, meta: AnnIndexMeta): Promise<AnnIndex> {
    const index = new AnnIndex(meta.dim, meta.capacity, meta.opts, false);
    await index.index.readIndex(path);
    index.count = meta.count;
    index.radius = meta.radius;
    index.ef = meta.efSearch;
    index.index.setEf(meta.efSearch);
    index.calibrated = meta.calibration;
    index.laidOut = meta.layout;
    return index;
  }

  /**
   * Renumbers the graph's elements in breadth-first order through hnswlib's own file format:
   * the same graph and answers, faster searches. Should the file not have the layout
   * graph-layout.ts knows, the index stays as built and `layout` says why.
   */
  private layOutBreadthFirst(): void {
    if (this.count < 2) return;
    const dir = mkdtempSync(join(tmpdir(), 'reco-ann-layout-'));
    try {
      const path = join(dir, 'index.hnsw');
      this.index.writeIndexSync(path);
      const file = readFileSync(path);
      const layout = readLayout(file, (this.dim + 1) * 4);
      writeFileSync(path, renumber(file, layout, breadthFirstOrder(file, layout)));
      const relaid = new HierarchicalNSW('l2', this.dim + 1);
      relaid.readIndexSync(path);
      relaid.setEf(this.index.getEf());
      this.index = relaid;
      this.laidOut = { order: 'breadth-first' };
    } catch (err) {
      this.laidOut = { order: 'insertion', failure: err instanceof Error ? err.message : String(err) };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** How the graph lies in memory (see `layOutBreadthFirst`). */
  get layout(): AnnLayout {
    return this.laidOut;
  }

  /** What calibration chose and measured; undefined when it is off (`targetRecall: 0`). */
  get calibration(): AnnCalibration | undefined {
    return this.calibrated;
  }

  /** The candidate list size searches use (at least k). */
  get efSearch(): number {
    return this.ef;
  }

  /** Overrides the (calibrated) efSearch, e.g. to sweep it in a benchmark. */
  setEfSearch(ef: number): void {
    this.ef = Math.max(1, Math.round(ef));
  }

  /** Recall@k at the current efSearch of `sample` (one query per row) against its exact top k. */
  private *recallOn(sample: Float32Array, truth: number[][], k: number): Generator<void, number> {
    const approx: number[][] = [];
    for (let i = 0; i < truth.length; i++) {
      approx.push(this.search(sample.subarray(i * this.dim, (i + 1) * this.dim), k).labels);
      if (i % 50 === 49) yield;
    }
    return truth.length > 0 ? recallAtK(approx, truth) : 1;
  }

  /**
   * Raises efSearch over a ladder (x1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10, ... of the floor,
   * then the cap) until recall@k reaches the target on the item-derived sample and, when
   * given, on the users' queries. Yields every few
   * exact searches or ladder rungs so that buildAsync can give the event loop a turn.
   */
  private *calibrate(vectors: Float32Array): Generator<void, void> {
    const { targetRecall, calibrationQueries, calibrationK, maxEfSearch, seed } = this.opts;
    if (!(targetRecall > 0)) return;
    const started = performance.now();
    const { dim } = this;
    const n = vectors.length / dim;
    const k = Math.max(1, Math.min(calibrationK, n));
    const floor = Math.max(this.opts.efSearch, calibrationK);
    const cap = Math.max(floor, maxEfSearch);
    const q = n > 0 ? Math.max(1, calibrationQueries) : 0;
    const rand = mulberry32(seed);
    const row = (v: Float32Array, i: number) => v.subarray(i * dim, (i + 1) * dim);
    // item queries first; the focused ones need their anchor's exact neighbours
    const items = Math.min(q, Math.max(1, Math.round(q * 0.6)));
    const queries = new Float32Array(q * dim);
    for (let at = 0; at < items; at++) queries.set(row(vectors, Math.floor(rand() * n)), at * dim);
    const exact = yield* exactTopKInSteps(vectors, dim, queries.subarray(0, items * dim), k);
    for (let at = items; at < q; at++) {
      // a focused taste: the mean of an item and 1–3 of its exact nearest items
      const anchor = (at - items) % items;
      const near = exact[anchor]!;
      const parts = [row(queries, anchor)];
      for (let j = 1 + Math.floor(rand() * 3); j > 0; j--)
        parts.push(row(vectors, near[Math.floor(rand() * near.length)]!));
      for (let d = 0; d < dim; d++) {
        let sum = 0;
        for (const p of parts) sum += p[d]!;
        queries[at * dim + d] = sum / parts.length;
      }
    }
    exact.push(...(yield* exactTopKInSteps(vectors, dim, queries.subarray(items * dim), k)));
    const u = Math.min(q, Math.floor(this.opts.userQueries.length / dim));
    const users = this.opts.userQueries.subarray(0, u * dim);
    const exactUsers = yield* exactTopKInSteps(vectors, dim, users, k);
    const ladder: AnnCalibration['ladder'] = [];
    for (const ef of efLadder(floor, cap)) {
      this.ef = ef;
      const recallBy = {
        items: yield* this.recallOn(queries, exact, k),
        ...(u > 0 ? { users: yield* this.recallOn(users, exactUsers, k) } : {}),
      };
      const recall = Math.min(recallBy.items, recallBy.users ?? 1);
      ladder.push({ efSearch: ef, recall, recallBy });
      if (recall >= targetRecall) break;
    }
    const last = ladder[ladder.length - 1]!;
    this.calibrated = {
      efSearch: last.efSearch,
      recall: last.recall,
      recallBy: last.recallBy,
      target: targetRecall,
      reached: last.recall >= targetRecall,
      k,
      queries: q + u,
      ms: Math.round(performance.now() - started),
      ladder,
    };
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
    const ef = Math.max(this.ef, kk);
    if (this.index.getEf() !== ef) this.index.setEf(ef);
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

/** floor x 1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10, 12, 16, ... up to the cap, and the cap. */
export function efLadder(floor: number, cap: number): number[] {
  const steps = [1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 8];
  const out: number[] = [];
  for (let scale = 1; ; scale *= 10) {
    for (const s of steps) {
      const ef = Math.round(floor * s * scale);
      if (ef >= cap) return [...out, cap];
      if (ef > (out[out.length - 1] ?? 0)) out.push(ef);
    }
  }
}

/** Exact top k of each query (one per row), eight queries per step: a generator step yields between. */
function* exactTopKInSteps(
  vectors: Float32Array,
  dim: number,
  queries: Float32Array,
  k: number,
): Generator<void, number[][]> {
  const out: number[][] = [];
  const n = queries.length / dim;
  for (let at = 0; at < n; at += 8) {
    out.push(...exactTopKMany(vectors, dim, queries.subarray(at * dim, Math.min(n, at + 8) * dim), k));
    yield;
  }
  return out;
}
