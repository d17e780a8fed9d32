/** The worker thread behind ThreadSearcher: owns one AnnIndex and answers batches of searches. */
import { parentPort } from 'node:worker_threads';
import {
  AnnIndex,
  type AnnCalibration,
  type AnnIndexMeta,
  type AnnLayout,
  type AnnOptions,
} from './ann-index';
import { SearchExchange } from './search-exchange';

export type WorkerRequest =
  /** Build and keep the index; with `savePath`, also save it there (other threads load it). */
  | { type: 'build'; vectors: Float32Array; dim: number; opts: AnnOptions; savePath?: string }
  /** Load and keep an index another thread built and saved (answered like `build`). */
  | { type: 'load'; path: string; meta: AnnIndexMeta }
  /** Build, save to `path` and answer `saved`: the caller loads and searches the index itself. */
  | { type: 'buildToFile'; vectors: Float32Array; dim: number; opts: AnnOptions; path: string }
  | { type: 'add'; label: number; vector: Float32Array }
  /** From now on, searches and their hits pass through this shared memory (a SearchExchange). */
  | { type: 'exchange'; buffer: SharedArrayBuffer; dim: number; maxQueries: number; maxHits: number }
  /** The exchange holds `count` queries (and their k): search them and write the hits there. */
  | { type: 'search'; count: number };

export type WorkerReply =
  /** `calibration` is undefined when it is off (`targetRecall: 0`). */
  | {
      type: 'built';
      size: number;
      efSearch: number;
      calibration?: AnnCalibration;
      layout: AnnLayout;
      /** When the build was saved (`savePath`): what `load` needs besides the file. */
      saved?: AnnIndexMeta;
    }
  | { type: 'saved'; meta: AnnIndexMeta }
  /** The exchange holds the hits of the last `search`. */
  | { type: 'found' }
  | { type: 'failed'; message: string }
  | { type: 'addFailed'; label: number; message: string };

let index: AnnIndex | undefined;
let exchange: SearchExchange | undefined;

function handle(req: WorkerRequest): WorkerReply | undefined {
  switch (req.type) {
    case 'build':
      index = AnnIndex.build(req.vectors, req.dim, req.opts);
      return { ...built(index), saved: req.savePath ? index.save(req.savePath) : undefined };
    case 'load':
      throw new Error('load is asynchronous'); // answered in the message handler
    case 'buildToFile':
      return { type: 'saved', meta: AnnIndex.build(req.vectors, req.dim, req.opts).save(req.path) };
    case 'add':
      try {
        index!.add(req.label, req.vector);
        return undefined;
      } catch (err) {
        return {
          type: 'addFailed',
          label: req.label,
          message: err instanceof Error ? err.message : String(err),
        };
      }
    case 'exchange':
      exchange = new SearchExchange(req.buffer, req.dim, req.maxQueries, req.maxHits);
      return undefined;
    case 'search': {
      const x = exchange!;
      let at = 0;
      for (let i = 0; i < req.count; i++) {
        const hit = index!.search(x.queries.subarray(i * x.dim, (i + 1) * x.dim), x.ks[i]!);
        const n = hit.labels.length;
        // the caller sized the exchange for min(k, size) hits a query; more would be a bug
        if (at + n > x.maxHits) throw new Error(`ann worker: ${at + n} hits exceed ${x.maxHits}`);
        x.counts[i] = n;
        x.labels.set(hit.labels, at);
        x.scores.set(hit.scores, at);
        at += n;
      }
      return { type: 'found' };
    }
  }
}

function built(ix: AnnIndex): Extract<WorkerReply, { type: 'built' }> {
  return {
    type: 'built',
    size: ix.size,
    efSearch: ix.efSearch,
    calibration: ix.calibration,
    layout: ix.layout,
  };
}

const failure = (err: unknown): WorkerReply => ({
  type: 'failed',
  message: err instanceof Error ? err.message : String(err),
});

if (parentPort) {
  const port = parentPort;
  port.on('message', (req: WorkerRequest) => {
    if (req.type === 'load') {
      // the file is read on libuv's pool; the caller sends nothing else before the answer
      AnnIndex.load(req.path, req.meta).then(
        (ix) => port.postMessage(built((index = ix))),
        (err: unknown) => port.postMessage(failure(err)),
      );
      return;
    }
    let reply: WorkerReply | undefined;
    try {
      reply = handle(req);
    } catch (err) {
      reply = failure(err);
    }
    if (reply) port.postMessage(reply);
  });
}
