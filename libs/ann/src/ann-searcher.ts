import { Worker } from 'node:worker_threads';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AnnIndex,
  type AnnCalibration,
  type AnnHit,
  type AnnIndexMeta,
  type AnnLayout,
  type AnnOptions,
} from './ann-index';
import type { WorkerReply, WorkerRequest } from './ann-thread';
import { SearchExchange } from './search-exchange';

/**
 * What serving needs from an ANN index. Searches are asynchronous because the index may live
 * on its own thread: an HNSW search is a few hundred microseconds of CPU, and on the event
 * loop it delays every other request by that much.
 */
export interface AnnSearcher {
  readonly size: number;
  /** The candidate list size searches use (calibrated unless `targetRecall` is 0). */
  readonly efSearch: number;
  /** What the build's calibration chose and measured; undefined when it was off. */
  readonly calibration: AnnCalibration | undefined;
  /** How the index's graph lies in memory (a renumbered graph searches faster). */
  readonly layout: AnnLayout;
  search(query: ArrayLike<number>, k: number): Promise<AnnHit>;
  /** Adds the vector of a new `label` (an item added after the build). */
  add(label: number, vector: ArrayLike<number>): void;
  /** Frees the index; searches still queued are answered first. */
  close(): Promise<void>;
}

export interface SearcherOptions extends AnnOptions {
  /**
   * Where the index lives. true (default): built and searched on a worker thread (a search is
   * a message each way). 'build': built on a worker thread, then loaded and searched on the
   * caller's (a search holds the caller's thread for its few hundred microseconds, but costs
   * no message, no second heap, and no waiting for another thread to be scheduled). false:
   * built in slices and searched on the caller's thread.
   */
  thread?: boolean | 'build';
  /**
   * With `thread: true`, how many worker threads search (default 1). One builds and calibrates
   * the index and saves it; the others load that file. Each search goes to the thread with the
   * fewest searches pending, so a burst is searched in parallel instead of queueing on one.
   */
  threads?: number;
  /** Told about an item that could not be added on the worker thread (the index goes on). */
  onAddFailed?: (label: number, message: string) => void;
  /** Told the number of searches in each message to the worker thread (for a batch-size metric). */
  onBatch?: (searches: number) => void;
}

/** Builds an index over `vectors` (n x dim row-major; row i gets label i). */
export async function buildSearcher(
  vectors: Float32Array,
  dim: number,
  opts: SearcherOptions = {},
): Promise<AnnSearcher> {
  const { thread = true, threads = 1, onAddFailed, onBatch, ...ann } = opts;
  if (!Number.isInteger(threads) || threads < 1)
    throw new RangeError(`threads: ${threads} is not a count ≥ 1`);
  if (thread === 'build') return new LocalSearcher(await buildOnThread(vectors, dim, ann));
  if (!thread) return new LocalSearcher(await AnnIndex.buildAsync(vectors, dim, ann));
  return threads === 1
    ? ThreadSearcher.start(vectors, dim, ann, onAddFailed, onBatch)
    : SearcherPool.start(vectors, dim, ann, threads, onAddFailed, onBatch);
}

/** Builds (and calibrates) on a worker thread, which hands the graph over in a file. */
async function buildOnThread(vectors: Float32Array, dim: number, opts: AnnOptions): Promise<AnnIndex> {
  const dir = await mkdtemp(join(tmpdir(), 'reco-ann-'));
  const path = join(dir, 'index.hnsw');
  const worker = new Worker(join(__dirname, 'ann-thread.js'));
  try {
    const reply = await buildOn(worker, { type: 'buildToFile', vectors, dim, opts, path });
    if (reply.type !== 'saved') throw new Error(`ann worker: unexpected ${reply.type}`);
    return await AnnIndex.load(path, reply.meta);
  } finally {
    await worker.terminate();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Sends a build request to `worker` (its vectors copied, and the copy moved to the thread: the
 * caller keeps its embeddings) and resolves with the worker's answer; a failed build, a thread
 * error or its exit reject.
 */
function buildOn(
  worker: Worker,
  req: Extract<WorkerRequest, { type: 'build' | 'buildToFile' }>,
): Promise<WorkerReply> {
  const vectors = req.vectors.slice();
  return ask(worker, { ...req, vectors }, [vectors.buffer]);
}

/** Sends `req` to `worker` and resolves with its answer; a failure, a thread error or its exit reject. */
function ask(worker: Worker, req: WorkerRequest, transfer: ArrayBuffer[] = []): Promise<WorkerReply> {
  return new Promise<WorkerReply>((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    const onExit = (code: number) => reject(new Error(`ann worker exited with code ${code}`));
    worker.once('error', onError);
    worker.once('exit', onExit);
    worker.once('message', (reply: WorkerReply) => {
      worker.off('error', onError);
      worker.off('exit', onExit);
      if (reply.type === 'failed') reject(new Error(`ann worker: ${reply.message}`));
      else resolve(reply);
    });
    worker.postMessage(req, transfer);
  });
}

/** The index on the caller's thread. */
export class LocalSearcher implements AnnSearcher {
  constructor(private readonly index: AnnIndex) {}

  get size(): number {
    return this.index.size;
  }

  get efSearch(): number {
    return this.index.efSearch;
  }

  get calibration(): AnnCalibration | undefined {
    return this.index.calibration;
  }

  get layout(): AnnLayout {
    return this.index.layout;
  }

  search(query: ArrayLike<number>, k: number): Promise<AnnHit> {
    return Promise.resolve(this.index.search(query, k));
  }

  add(label: number, vector: ArrayLike<number>): void {
    this.index.add(label, vector);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

interface PendingSearch {
  query: ArrayLike<number>;
  k: number;
  resolve: (hit: AnnHit) => void;
  reject: (err: Error) => void;
}

/**
 * The index on a worker thread. The searches requested in one turn of the event loop go to the
 * thread together at the end of that turn (setImmediate: no timer, no added wait), and those
 * that arrive while it is busy go together when it is free, so message overhead shrinks as load
 * grows, the same shape as the model's micro-batches. Requests whose users came in one Redis
 * read ask for their searches in the same turn; sent at once, the first went alone and the
 * rest waited for it, two messages where one does (a message and its reply cost the serving
 * thread 20–26 µs). Queries and hits travel through shared memory (SearchExchange), grown when
 * a batch does not fit.
 */
export class ThreadSearcher implements AnnSearcher {
  private queued: PendingSearch[] = [];
  private inFlight: PendingSearch[] = [];
  private count: number;
  private failure?: Error;
  private closing?: () => void;
  private exchange?: SearchExchange;
  private sendScheduled = false;
  /** What `load` needs besides the file, when the build was saved. */
  saved?: AnnIndexMeta;

  private constructor(
    private readonly worker: Worker,
    private readonly dim: number,
    size: number,
    readonly efSearch: number,
    readonly calibration: AnnCalibration | undefined,
    readonly layout: AnnLayout,
    private readonly onAddFailed: (label: number, message: string) => void,
    private readonly onBatch: (searches: number) => void,
  ) {
    this.count = size;
    worker.on('message', (reply: WorkerReply) => this.onReply(reply));
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => this.fail(new Error(`ann worker exited with code ${code}`)));
  }

  /** Builds the index on a new thread; with `savePath`, also saves it there (`saved` is its meta). */
  static start(
    vectors: Float32Array,
    dim: number,
    opts: AnnOptions = {},
    onAddFailed: (label: number, message: string) => void = () => undefined,
    onBatch: (searches: number) => void = () => undefined,
    savePath?: string,
  ): Promise<ThreadSearcher> {
    return ThreadSearcher.open(dim, onAddFailed, onBatch, (worker) =>
      buildOn(worker, { type: 'build', vectors, dim, opts, savePath }),
    );
  }

  /** Loads on a new thread an index another one saved. */
  static load(
    path: string,
    meta: AnnIndexMeta,
    onAddFailed: (label: number, message: string) => void = () => undefined,
    onBatch: (searches: number) => void = () => undefined,
  ): Promise<ThreadSearcher> {
    return ThreadSearcher.open(meta.dim, onAddFailed, onBatch, (worker) =>
      ask(worker, { type: 'load', path, meta }),
    );
  }

  private static async open(
    dim: number,
    onAddFailed: (label: number, message: string) => void,
    onBatch: (searches: number) => void,
    first: (worker: Worker) => Promise<WorkerReply>,
  ): Promise<ThreadSearcher> {
    const worker = new Worker(join(__dirname, 'ann-thread.js'));
    try {
      const reply = await first(worker);
      if (reply.type !== 'built') throw new Error(`ann worker: unexpected ${reply.type}`);
      worker.unref(); // an idle index does not keep the process alive
      const searcher = new ThreadSearcher(
        worker,
        dim,
        reply.size,
        reply.efSearch,
        reply.calibration,
        reply.layout,
        onAddFailed,
        onBatch,
      );
      searcher.saved = reply.saved;
      return searcher;
    } catch (err) {
      void worker.terminate();
      throw err;
    }
  }

  /** Searches queued or in flight. */
  get pending(): number {
    return this.queued.length + this.inFlight.length;
  }

  get size(): number {
    return this.count;
  }

  search(query: ArrayLike<number>, k: number): Promise<AnnHit> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(new Error('ann index closed'));
    return new Promise<AnnHit>((resolve, reject) => {
      this.queued.push({ query, k, resolve, reject });
      if (this.inFlight.length === 0 && !this.sendScheduled) {
        this.sendScheduled = true;
        setImmediate(this.sendQueued);
      }
    });
  }

  add(label: number, vector: ArrayLike<number>): void {
    if (this.failure || this.closing) return;
    this.worker.postMessage({
      type: 'add',
      label,
      vector: Float32Array.from(vector),
    } satisfies WorkerRequest);
    this.count++;
  }

  close(): Promise<void> {
    if (this.failure) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.closing = () => void this.worker.terminate().then(() => resolve());
      if (this.inFlight.length === 0 && this.queued.length === 0) this.closing();
    });
  }

  /** The turn's searches, unless a reply came first and sent them already. */
  private readonly sendQueued = (): void => {
    this.sendScheduled = false;
    if (this.inFlight.length === 0 && this.queued.length > 0) this.send();
  };

  private send(): void {
    const batch = this.queued;
    this.onBatch(batch.length);
    this.queued = [];
    this.inFlight = batch;
    this.worker.ref(); // a search in flight keeps the process alive, an idle index does not
    let hits = 0;
    for (const p of batch) hits += Math.max(0, Math.min(p.k, this.count));
    const x = this.exchangeFor(batch.length, hits);
    const dim = this.dim;
    batch.forEach((p, i) => {
      for (let d = 0; d < dim; d++) x.queries[i * dim + d] = p.query[d] ?? 0;
      x.ks[i] = p.k;
    });
    this.worker.postMessage({ type: 'search', count: batch.length } satisfies WorkerRequest);
  }

  /** The exchange, replaced by one twice as large (or as large as needed) when the batch does not fit. */
  private exchangeFor(queries: number, hits: number): SearchExchange {
    const x = this.exchange;
    if (x?.fits(queries, hits)) return x;
    const grown = SearchExchange.allocate(
      this.dim,
      Math.max(queries, 2 * (x?.maxQueries ?? 4)),
      Math.max(hits, 2 * (x?.maxHits ?? 256)),
    );
    // messages arrive in order: the thread has the new exchange before the search that needs it
    this.worker.postMessage({
      type: 'exchange',
      buffer: grown.buffer,
      dim: grown.dim,
      maxQueries: grown.maxQueries,
      maxHits: grown.maxHits,
    } satisfies WorkerRequest);
    this.exchange = grown;
    return grown;
  }

  private onReply(reply: WorkerReply): void {
    if (reply.type === 'addFailed') {
      this.count--;
      return this.onAddFailed(reply.label, reply.message);
    }
    const batch = this.inFlight;
    this.inFlight = [];
    if (reply.type === 'failed') {
      const err = new Error(`ann worker: ${reply.message}`);
      for (const p of batch) p.reject(err);
    }
    if (reply.type !== 'found') return this.next();
    const x = this.exchange!;
    let at = 0;
    batch.forEach((p, i) => {
      const n = x.counts[i]!;
      // copied out before the next batch reuses the exchange; plain loops: Array.from over a
      // typed array allocates an iterator result per element, and this runs for every search
      const labels = new Array<number>(n);
      const scores = new Array<number>(n);
      for (let j = 0; j < n; j++) {
        labels[j] = x.labels[at + j]!;
        scores[j] = x.scores[at + j]!;
      }
      p.resolve({ labels, scores });
      at += n;
    });
    this.next();
  }

  private next(): void {
    if (this.queued.length > 0) return this.send();
    this.worker.unref();
    this.closing?.();
  }

  private fail(err: Error): void {
    if (this.failure || this.closing) return;
    this.failure = err;
    for (const p of [...this.inFlight, ...this.queued]) p.reject(err);
    this.inFlight = [];
    this.queued = [];
  }
}

/**
 * The index on several worker threads, each with its own copy (at 100,000 64-d items, about 40
 * MB each): one builds, calibrates and saves it, the others load the file. A search goes to the
 * thread with the fewest searches pending (ties: the first), so the searches of one turn are
 * split across idle threads and searched in parallel, and an item added reaches every copy.
 */
export class SearcherPool implements AnnSearcher {
  private constructor(private readonly members: readonly ThreadSearcher[]) {}

  static async start(
    vectors: Float32Array,
    dim: number,
    opts: AnnOptions,
    threads: number,
    onAddFailed: (label: number, message: string) => void = () => undefined,
    onBatch: (searches: number) => void = () => undefined,
  ): Promise<SearcherPool> {
    const dir = await mkdtemp(join(tmpdir(), 'reco-ann-'));
    const path = join(dir, 'index.hnsw');
    const members: ThreadSearcher[] = [];
    try {
      const first = await ThreadSearcher.start(vectors, dim, opts, onAddFailed, onBatch, path);
      members.push(first);
      // an item the first copy could not add is reported once, by the first
      for (let i = 1; i < threads; i++)
        members.push(await ThreadSearcher.load(path, first.saved!, undefined, onBatch));
      return new SearcherPool(members);
    } catch (err) {
      await Promise.all(members.map((m) => m.close()));
      throw err;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Threads searching. */
  get threads(): number {
    return this.members.length;
  }

  get size(): number {
    return this.members[0]!.size;
  }

  get efSearch(): number {
    return this.members[0]!.efSearch;
  }

  get calibration(): AnnCalibration | undefined {
    return this.members[0]!.calibration;
  }

  get layout(): AnnLayout {
    return this.members[0]!.layout;
  }

  search(query: ArrayLike<number>, k: number): Promise<AnnHit> {
    let best = this.members[0]!;
    for (const m of this.members) if (m.pending < best.pending) best = m;
    return best.search(query, k);
  }

  add(label: number, vector: ArrayLike<number>): void {
    for (const m of this.members) m.add(label, vector);
  }

  async close(): Promise<void> {
    await Promise.all(this.members.map((m) => m.close()));
  }
}
