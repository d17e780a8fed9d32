/**
 * The memory one batch of searches and its hits pass through between ThreadSearcher and the
 * index's worker thread. Copying them into messages instead (structured clone, transfer lists
 * and a message object each way) cost the serving thread about 40 µs a batch on a 2-core
 * machine (docs/benchmarks.md); the messages now only say "searches ready" and "hits ready".
 * One batch is in flight at a time, so one area serves both ways without locks: the caller
 * writes the queries only while nothing is in flight, the thread writes the hits before its
 * reply, and the caller reads them on that reply.
 */
export class SearchExchange {
  /** Query i is queries[i * dim, (i + 1) * dim). */
  readonly queries: Float32Array;
  readonly ks: Int32Array;
  /** Hits of query i are the next counts[i] entries of labels and scores. */
  readonly counts: Int32Array;
  readonly labels: Int32Array;
  readonly scores: Float32Array;

  constructor(
    readonly buffer: SharedArrayBuffer,
    readonly dim: number,
    readonly maxQueries: number,
    readonly maxHits: number,
  ) {
    let at = 0;
    const take = <T>(Kind: new (b: SharedArrayBuffer, offset: number, n: number) => T, n: number): T => {
      const view = new Kind(buffer, at, n);
      at += n * 4;
      return view;
    };
    this.queries = take(Float32Array, maxQueries * dim);
    this.ks = take(Int32Array, maxQueries);
    this.counts = take(Int32Array, maxQueries);
    this.labels = take(Int32Array, maxHits);
    this.scores = take(Float32Array, maxHits);
  }

  static allocate(dim: number, maxQueries: number, maxHits: number): SearchExchange {
    const bytes = 4 * (maxQueries * (dim + 2) + 2 * maxHits);
    return new SearchExchange(new SharedArrayBuffer(bytes), dim, maxQueries, maxHits);
  }

  /** Whether `queries` searches with at most `hits` hits in all fit. */
  fits(queries: number, hits: number): boolean {
    return queries <= this.maxQueries && hits <= this.maxHits;
  }
}
