import { Worker } from 'node:worker_threads';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AnnIndex, type AnnCalibration, type AnnHit, type AnnLayout, type AnnOptions } from './ann-index';
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
  /** Told about an item that could not be added on the worker thread (the index goes on). */
  onAddFailed?: (label: number, message: string) => void;
}

/** Builds an index over `vectors` (n x dim row-major; row i gets label i). */
export async function buildSearcher(
  vectors: Float32Array,
  dim: number,
  opts: SearcherOptions = {},
): Promise<AnnSearcher> {
  const { thread = true, onAddFailed, ...ann } = opts;
  if (thread === 'build') return new LocalSearcher(await buildOnThread(vectors, dim, ann));
  return thread
    ? ThreadSearcher.start(vectors, dim, ann, onAddFailed)
    : new LocalSearcher(await AnnIndex.buildAsync(vectors, dim, ann));
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
    worker.postMessage({ ...req, vectors } satisfies WorkerRequest, [vectors.buffer]);
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
 * The index on a worker thread. Searches that arrive while the thread is busy are sent
 * together as one message when it is free (no timer: a lone search goes at once), so message
 * overhead shrinks as load grows, the same shape as the model's micro-batches. Queries and hits
 * travel through shared memory (SearchExchange), grown when a batch does not fit.
 */
export class ThreadSearcher implements AnnSearcher {
  private queued: PendingSearch[] = [];
  private inFlight: PendingSearch[] = [];
  private count: number;
  private failure?: Error;
  private closing?: () => void;
  private exchange?: SearchExchange;

  private constructor(
    private readonly worker: Worker,
    private readonly dim: number,
    size: number,
    readonly efSearch: number,
    readonly calibration: AnnCalibration | undefined,
    readonly layout: AnnLayout,
    private readonly onAddFailed: (label: number, message: string) => void,
  ) {
    this.count = size;
    worker.on('message', (reply: WorkerReply) => this.onReply(reply));
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => this.fail(new Error(`ann worker exited with code ${code}`)));
  }

  static async start(
    vectors: Float32Array,
    dim: number,
    opts: AnnOptions = {},
    onAddFailed: (label: number, message: string) => void = () => undefined,
  ): Promise<ThreadSearcher> {
    const worker = new Worker(join(__dirname, 'ann-thread.js'));
    try {
      const reply = await buildOn(worker, { type: 'build', vectors, dim, opts });
      if (reply.type !== 'built') throw new Error(`ann worker: unexpected ${reply.type}`);
      worker.unref(); // an idle index does not keep the process alive
      return new ThreadSearcher(
        worker,
        dim,
        reply.size,
        reply.efSearch,
        reply.calibration,
        reply.layout,
        onAddFailed,
      );
    } catch (err) {
      void worker.terminate();
      throw err;
    }
  }

  get size(): number {
    return this.count;
  }

  search(query: ArrayLike<number>, k: number): Promise<AnnHit> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(new Error('ann index closed'));
    return new Promise<AnnHit>((resolve, reject) => {
      this.queued.push({ query, k, resolve, reject });
      if (this.inFlight.length === 0) this.send();
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

  private send(): void {
    const batch = this.queued;
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
